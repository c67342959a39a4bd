/*
 * Standalone driver for the fuzz targets: replays every file of the given
 * directories (or the given files) through LLVMFuzzerTestOneInput, so that
 * `meson test` runs the committed corpora with any compiler. Each input
 * runs in a child process, so one crash does not hide the next: the driver
 * lists every failing input and fails if there is one, or if it found no
 * input at all.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int load(const char *path, unsigned char **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long len;
    if (!f) {
        perror(path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    buf = (unsigned char *)malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    *out = buf;
    *out_len = (size_t)len;
    return 0;
}

/* 0 if the input ran clean, 1 if it crashed, -1 if unreadable. */
static int replay_file(const char *path)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int st = 0;
    pid_t pid;
    if (load(path, &buf, &len) != 0)
        return -1;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        free(buf);
        return -1;
    }
    if (pid == 0) {
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        fflush(NULL);
        _exit(0);
    }
    free(buf);
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        fprintf(stderr, "ok    %s (%zu bytes)\n", path, len);
        return 0;
    }
    if (WIFSIGNALED(st))
        fprintf(stderr, "CRASH %s (%zu bytes): signal %d (%s)\n", path, len, WTERMSIG(st),
                strsignal(WTERMSIG(st)));
    else
        fprintf(stderr, "CRASH %s (%zu bytes): exit status %d\n", path, len, WEXITSTATUS(st));
    return 1;
}

int main(int argc, char **argv)
{
    long n = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int rc;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            struct dirent **ents = NULL;
            int m = scandir(argv[i], &ents, NULL, alphasort);
            if (m < 0) {
                perror(argv[i]);
                return 1;
            }
            for (int j = 0; j < m; j++) {
                char path[4096];
                struct stat fs;
                snprintf(path, sizeof path, "%s/%s", argv[i], ents[j]->d_name);
                if (ents[j]->d_name[0] != '.' && stat(path, &fs) == 0 && S_ISREG(fs.st_mode)) {
                    if ((rc = replay_file(path)) < 0)
                        return 1;
                    bad += rc;
                    n++;
                }
                free(ents[j]);
            }
            free(ents);
        } else {
            if ((rc = replay_file(argv[i])) < 0)
                return 1;
            bad += rc;
            n++;
        }
    }
    printf("replayed %ld inputs, %ld failed\n", n, bad);
    return n > 0 && bad == 0 ? 0 : 1;
}
