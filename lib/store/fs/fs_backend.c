/*
 * fs backend: opening (and creating) a store directory, its format file,
 * the whole-store commit point, and release.
 *
 * Creation is safe against a concurrent creator: the subdirectories are
 * made first (mkdir tolerates EEXIST) and the format file is published
 * last with link() from a temp file, which exactly one creator wins; the
 * others read the winner's file. Until the format file exists a directory
 * holding only our subdirectories is an unfinished creation and may be
 * completed by anyone; any other content means "not a store".
 */
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "common/alloc.h"
#include "common/fs.h"
#include "fs_internal.h"
#include "store/store_internal.h"

static const char *const subdirs[] = { "objects", "refs", "logs", "tmp" };
#define NSUBDIRS (sizeof subdirs / sizeof subdirs[0])

/* 1 if the store's format is known and supported, 0 if there is no format
 * file, or an error. */
static int read_format(const mlops__fsb *fs)
{
    char *path = mlops__fsb_path(fs, MLOPS__FSB_FORMAT_FILE);
    if (!path)
        return mlops__error_oom();
    int rc = 1;
    char text[256];
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = errno == ENOENT ? 0 : mlops__error_errno(errno, "cannot open '%s'", path);
        goto out;
    }
    int e = mlops__fs_read_full(fd, text, sizeof text - 1, &n);
    close(fd);
    if (e < 0 && e != -EISDIR) {
        rc = mlops__error_errno(-e, "cannot read '%s'", path);
        goto out;
    }
    text[e < 0 ? 0 : n] = '\0';
    /* "mlops-store <decimal>\n", further lines reserved for later use. */
    size_t magic = strlen(MLOPS__FSB_FORMAT_MAGIC);
    const char *p = text + magic + 1;
    size_t digits = 0;
    unsigned long version = 0;
    if (strncmp(text, MLOPS__FSB_FORMAT_MAGIC " ", magic + 1) == 0)
        for (; p[digits] >= '0' && p[digits] <= '9'; digits++)
            if (digits < 9)
                version = version * 10 + (unsigned long)(p[digits] - '0');
    if (digits == 0 || p[digits] != '\n' || (digits < 10 && version == 0)) {
        rc = mlops__error_set(MLOPS_ECORRUPT, "store format file '%s' is corrupt", path);
    } else if (digits > 9 || version > MLOPS__FSB_FORMAT_VERSION) {
        if (digits > 9)
            rc = mlops__error_set(MLOPS_EUNSUPPORTED,
                                  "store '%s': store format %.*s is newer than this library supports (%d)",
                                  fs->root, (int)digits, p, MLOPS__FSB_FORMAT_VERSION);
        else
            rc = mlops__error_set(MLOPS_EUNSUPPORTED,
                                  "store '%s': store format %lu is newer than this library supports (%d)",
                                  fs->root, version, MLOPS__FSB_FORMAT_VERSION);
    }
out:
    mlops__free(path);
    return rc;
}

/* 1 if dir holds nothing but (some of) our subdirectories. */
static int is_blank(const mlops__fsb *fs)
{
    DIR *d = opendir(fs->root);
    if (!d)
        return mlops__error_errno(errno, "cannot open directory '%s'", fs->root);
    int blank = 1;
    struct dirent *e;
    while (blank && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int ours = 0;
        for (size_t i = 0; i < NSUBDIRS; i++)
            ours |= strcmp(e->d_name, subdirs[i]) == 0;
        blank = ours;
    }
    closedir(d);
    return blank;
}

static int make_subdirs(const mlops__fsb *fs)
{
    for (size_t i = 0; i < NSUBDIRS; i++) {
        char *path = mlops__fsb_path(fs, "%s", subdirs[i]);
        if (!path)
            return mlops__error_oom();
        int rc = 0;
        if (mkdir(path, 0777) < 0 && errno != EEXIST)
            rc = mlops__error_errno(errno, "cannot create directory '%s'", path);
        mlops__free(path);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int write_format(const mlops__fsb *fs, const char *tmp, const char *final)
{
    char text[64];
    int n = snprintf(text, sizeof text, "%s %d\n", MLOPS__FSB_FORMAT_MAGIC, MLOPS__FSB_FORMAT_VERSION);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0)
        return mlops__error_errno(errno, "cannot create '%s'", tmp);
    int e = mlops__fs_write_all(fd, text, (size_t)n);
    if (e == 0 && fs->durability != MLOPS_DURABILITY_NONE)
        e = mlops__fs_fsync(fd);
    close(fd);
    if (e == 0) {
        e = mlops__fs_link(tmp, final);
        if (e == -EEXIST)
            e = 0; /* a concurrent creator won; its file is read back */
    }
    unlink(tmp);
    return e < 0 ? mlops__error_errno(-e, "cannot write store format file '%s'", final) : 0;
}

static int create_store(mlops__fsb *fs, int created_root)
{
    MLOPS__TRY(make_subdirs(fs));
    char hex[17];
    int e = mlops__fs_random_hex(hex, 8);
    if (e < 0)
        return mlops__error_errno(-e, "cannot get random bytes");
    char *tmp = mlops__fsb_path(fs, "tmp/" MLOPS__FSB_TMP_FORMAT "%s", hex);
    char *final = mlops__fsb_path(fs, MLOPS__FSB_FORMAT_FILE);
    int rc = tmp && final ? write_format(fs, tmp, final) : mlops__error_oom();
    mlops__free(tmp);
    mlops__free(final);
    if (rc == 0 && fs->durability != MLOPS_DURABILITY_NONE) {
        /* The root's entries, and the root's own entry if we made it. */
        e = mlops__fs_fsync_dir(fs->root);
        if (e == 0 && created_root) {
            char *parent = mlops__fsb_path(fs, "..");
            e = parent ? mlops__fs_fsync_dir(parent) : -ENOMEM;
            mlops__free(parent);
        }
        if (e < 0)
            rc = mlops__error_errno(-e, "cannot fsync store directory '%s'", fs->root);
    }
    return rc;
}

static int open_dir(mlops__fsb *fs, int may_create)
{
    struct stat st;
    int created_root = 0;
    if (stat(fs->root, &st) < 0) {
        if (errno != ENOENT)
            return mlops__error_errno(errno, "cannot open store '%s'", fs->root);
        if (!may_create)
            return mlops__error_set(MLOPS_ENOTFOUND, "no store at '%s'", fs->root);
        int e = mlops__fs_mkdir_p(fs->root);
        if (e < 0)
            return mlops__error_errno(-e, "cannot create store directory '%s'", fs->root);
        created_root = 1;
    } else if (!S_ISDIR(st.st_mode)) {
        return mlops__error_set(MLOPS_EINVALID, "'%s' is not a directory", fs->root);
    }
    int rc = read_format(fs);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    rc = is_blank(fs);
    if (rc < 0)
        return rc;
    if (!rc)
        return mlops__error_set(MLOPS_EINVALID, "'%s' is not a libmlops store (not empty, no format file)",
                                fs->root);
    if (!may_create)
        return mlops__error_set(MLOPS_ENOTFOUND, "no store at '%s'", fs->root);
    MLOPS__TRY(create_store(fs, created_root));
    rc = read_format(fs);
    if (rc == 0)
        rc = mlops__error_set(MLOPS_EIO, "store format file of '%s' vanished", fs->root);
    return rc < 0 ? rc : 0;
}

/* A store we may write to: refuse up front if the directory is not
 * writable, rather than at the first put (root ignores permissions). */
static int check_dir_writable(const mlops__fsb *fs)
{
    if (access(fs->root, W_OK) < 0)
        return mlops__error_errno(errno, "store directory '%s' is not writable (open it read-only)", fs->root);
    return make_subdirs(fs); /* removed by hand, or an older creation */
}

int mlops__fsb_commit(mlops__fsb *fs, const char *also_path)
{
    pthread_mutex_lock(&fs->sync_lock);
    pthread_mutex_lock(&fs->state);
    uint64_t covered = fs->append_seq;
    pthread_mutex_unlock(&fs->state);
    int did_syncfs = 0;
    int rc = mlops__fsb_pending_flush(fs, also_path, &did_syncfs);
    int rc2 = mlops__fsb_logs_sync_all(fs, did_syncfs, covered);
    pthread_mutex_unlock(&fs->sync_lock);
    return rc < 0 ? rc : rc2;
}

static int fs_sync(mlops_backend *b)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    if (fs->readonly || fs->durability == MLOPS_DURABILITY_NONE)
        return 0;
    return mlops__fsb_commit(fs, NULL);
}

static void fsb_dispose(mlops__fsb *fs)
{
    mlops__fsb_logs_free(fs);
    if (fs->root_fd >= 0)
        close(fs->root_fd);
    pthread_mutex_destroy(&fs->state);
    pthread_mutex_destroy(&fs->sync_lock);
    mlops__free(fs->root);
    mlops__free(fs);
}

static void fs_free(mlops_backend *b)
{
    if (b && b->payload)
        fsb_dispose(mlops__fsb_of(b));
    if (b)
        b->payload = NULL;
}

static int fsb_new(mlops__fsb **out, const char *path, const mlops_store_options *opts)
{
    mlops__fsb *fs = mlops__calloc(1, sizeof *fs);
    if (!fs)
        return mlops__error_oom();
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    fs->root = mlops__strndup(path, len);
    fs->root_fd = -1;
    if (!fs->root) {
        mlops__free(fs);
        return mlops__error_oom();
    }
    if (pthread_mutex_init(&fs->state, NULL) != 0) {
        mlops__free(fs->root);
        mlops__free(fs);
        return mlops__error_set(MLOPS_ERROR, "cannot create a mutex");
    }
    if (pthread_mutex_init(&fs->sync_lock, NULL) != 0) {
        pthread_mutex_destroy(&fs->state);
        mlops__free(fs->root);
        mlops__free(fs);
        return mlops__error_set(MLOPS_ERROR, "cannot create a mutex");
    }
    fs->durability = opts->durability;
    fs->readonly = (opts->flags & MLOPS_STORE_READONLY) != 0;
    fs->lock_timeout_ms = opts->lock_timeout_ms;
    fs->stale_lock_ms = opts->stale_lock_ms;
    fs->use_tmpfile = access("/proc/self/fd", X_OK) == 0; /* linkat needs it */
    if (gethostname(fs->hostname, sizeof fs->hostname - 1) < 0 || !fs->hostname[0])
        strcpy(fs->hostname, "unknown");
    fs->hostname[sizeof fs->hostname - 1] = '\0';
    *out = fs;
    return 0;
}

/* Paths are built from the root on every call: a relative root would
 * follow the process's chdir() to some other directory. */
static int make_root_absolute(mlops__fsb *fs)
{
    char abs[PATH_MAX];
    if (!realpath(fs->root, abs))
        return mlops__error_errno(errno, "cannot resolve store directory '%s'", fs->root);
    char *copy = mlops__strdup(abs);
    if (!copy)
        return mlops__error_oom();
    mlops__free(fs->root);
    fs->root = copy;
    return 0;
}

int mlops__backend_fs_open(mlops_backend *out, const char *path, const mlops_store_options *opts)
{
    static const mlops_store_options defaults = MLOPS_STORE_OPTIONS_INIT;
    if (!out || !path || !*path)
        return mlops__error_set(MLOPS_EINVALID, "store path is NULL or empty");
    if (!opts)
        opts = &defaults;
    if (opts->durability < MLOPS_DURABILITY_NONE || opts->durability > MLOPS_DURABILITY_FULL)
        return mlops__error_set(MLOPS_EINVALID, "unknown durability mode %d", (int)opts->durability);
    mlops__fsb *fs = NULL;
    MLOPS__TRY(fsb_new(&fs, path, opts));
    int may_create = !(opts->flags & (MLOPS_STORE_NO_CREATE | MLOPS_STORE_READONLY));
    int rc = open_dir(fs, may_create);
    if (rc == 0 && !fs->readonly)
        rc = check_dir_writable(fs);
    if (rc == 0)
        rc = make_root_absolute(fs);
    if (rc == 0) {
        fs->root_fd = open(fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fs->root_fd < 0)
            rc = mlops__error_errno(errno, "cannot open store directory '%s'", fs->root);
    }
    if (rc < 0) {
        fsb_dispose(fs);
        return rc;
    }
    memset(out, 0, sizeof *out);
    out->version = MLOPS_BACKEND_VERSION;
    out->payload = fs;
    mlops__fsb_objects_setup(out);
    mlops__fsb_refs_setup(out);
    mlops__fsb_logs_setup(out);
    mlops__fsb_log_read_setup(out);
    mlops__fsb_cleanup_setup(out);
    out->sync = fs_sync;
    out->free = fs_free;
    return 0;
}
