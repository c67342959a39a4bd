/* POSIX file helpers; the mutating calls consult the fault injector. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "fault.h"
#include "fs.h"

int mlops__fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        int fault = mlops__fault_hit(MLOPS__FAULT_WRITE);
        if (fault)
            return -fault;
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int mlops__fs_read_full(int fd, void *buf, size_t len, size_t *out_n)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *out_n = done;
            return -errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *out_n = done;
    return 0;
}

int mlops__fs_fsync(int fd)
{
    int fault = mlops__fault_hit(MLOPS__FAULT_FSYNC);
    if (fault)
        return -fault;
    while (fsync(fd) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

/* Opens path with flags, fsyncs and closes it. 0 or -errno. */
static int fsync_open(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = mlops__fs_fsync(fd);
    close(fd);
    return rc;
}

int mlops__fs_fsync_path(const char *path)
{
    return fsync_open(path, O_RDONLY);
}

int mlops__fs_fsync_dir(const char *path)
{
    int rc = fsync_open(path, O_RDONLY | O_DIRECTORY);
    /* Some filesystems refuse fsync on directories; that is not a failure
     * of ours to report. */
    return rc == -EINVAL || rc == -EBADF ? 0 : rc;
}

int mlops__fs_rename(const char *from, const char *to)
{
    int fault = mlops__fault_hit(MLOPS__FAULT_RENAME);
    if (fault)
        return -fault;
    return rename(from, to) < 0 ? -errno : 0;
}

int mlops__fs_link(const char *from, const char *to)
{
    int fault = mlops__fault_hit(MLOPS__FAULT_RENAME);
    if (fault)
        return -fault;
    return link(from, to) < 0 ? -errno : 0;
}

int mlops__fs_link_fd(int fd, const char *to)
{
    char proc[64];
    int fault = mlops__fault_hit(MLOPS__FAULT_RENAME);
    if (fault)
        return -fault;
    /* linkat(fd, "", ..., AT_EMPTY_PATH) would need CAP_DAC_READ_SEARCH;
     * following the /proc link works for any user. */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

int mlops__fs_mkdir_p(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    size_t len = strlen(path);
    char *tmp = mlops__strndup(path, len);
    if (!tmp)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 1; i <= len && rc == 0; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
            rc = -errno;
        else if (stat(tmp, &st) < 0)
            rc = -errno;
        else if (!S_ISDIR(st.st_mode))
            rc = -ENOTDIR;
        tmp[i] = saved;
    }
    mlops__free(tmp);
    return rc;
}

int mlops__fs_random_hex(char *out, size_t nbytes)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        return -EINVAL;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(raw + got, nbytes - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

int64_t mlops__time_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
