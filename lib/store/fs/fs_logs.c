/*
 * fs backend: appending to logs. Each backend instance appends to its own
 * segment file per log, logs/<name>/<time>-<random>.seg, so processes never
 * interleave bytes and never need a lock to append.
 *
 * The instance keeps a small table of the logs it appends to (under
 * fs->state), with the segment's fd. To bound file descriptors, at most
 * MAX_OPEN segments stay open; a closed one is reopened (same segment) on
 * the next append. Durability is tracked with a sequence number bumped on
 * every append and segment creation: an entry is durable up to synced_seq.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/fs.h"
#include "fs_internal.h"

#define MAX_OPEN 64

struct mlops__fsb_log {
    char *name;
    char seg[MLOPS__FSB_SEG_LEN + 1]; /* "" until a segment exists */
    int fd;                           /* -1 when closed */
    uint64_t size;                    /* bytes in the segment */
    uint64_t last_seq;                /* of the latest change */
    uint64_t synced_seq;              /* covered by a completed fsync */
    uint64_t created_seq;             /* when the segment was created */
    int dir_synced;                   /* its directory entry is durable */
    int created_dirs;                 /* parents were created with it */
    uint64_t last_use;
};

static int find_or_add(mlops__fsb *fs, const char *name, size_t *out)
{
    for (size_t i = 0; i < fs->nlogs; i++) {
        if (strcmp(fs->logs[i].name, name) == 0) {
            *out = i;
            return 0;
        }
    }
    if (fs->nlogs == fs->logs_cap) {
        mlops__fsb_log *p = mlops__grow_array(fs->logs, &fs->logs_cap, sizeof *p, 8);
        if (!p)
            return mlops__error_oom();
        fs->logs = p;
    }
    mlops__fsb_log *l = &fs->logs[fs->nlogs];
    memset(l, 0, sizeof *l);
    l->name = mlops__strdup(name);
    if (!l->name)
        return mlops__error_oom();
    l->fd = -1;
    *out = fs->nlogs++;
    return 0;
}

static void close_entry(mlops__fsb *fs, mlops__fsb_log *l)
{
    if (l->fd < 0)
        return;
    close(l->fd);
    l->fd = -1;
    fs->logs_open--;
}

static void close_least_used(mlops__fsb *fs)
{
    mlops__fsb_log *victim = NULL;
    for (size_t i = 0; i < fs->nlogs; i++)
        if (fs->logs[i].fd >= 0 && (!victim || fs->logs[i].last_use < victim->last_use))
            victim = &fs->logs[i];
    if (victim)
        close_entry(fs, victim); /* unsynced bytes stay in the page cache */
}

static int segment_name(char out[MLOPS__FSB_SEG_LEN + 1])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    char rnd[17];
    int e = mlops__fs_random_hex(rnd, 8);
    if (e < 0)
        return mlops__error_errno(-e, "cannot get random bytes");
    snprintf(out, MLOPS__FSB_SEG_LEN + 1, "%016" PRIx64 "-%s.seg", ns, rnd);
    return 0;
}

/* l->seg names a segment only once it exists: a name left behind by a
 * failed creation would make every later commit point fsync a missing
 * file (sync_entry, logs_sync_all). */
static int create_segment(mlops__fsb *fs, mlops__fsb_log *l)
{
    int created = 0;
    char seg[MLOPS__FSB_SEG_LEN + 1];
    l->seg[0] = '\0';
    for (int attempt = 0; attempt < 8; attempt++) {
        MLOPS__TRY(segment_name(seg));
        char *path = mlops__fsb_path(fs, "logs/%s/%s", l->name, seg);
        if (!path)
            return mlops__error_oom();
        l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        int err = errno;
        mlops__free(path);
        if (l->fd >= 0) {
            memcpy(l->seg, seg, sizeof seg);
            l->size = 0;
            l->dir_synced = 0;
            l->created_dirs = created;
            l->created_seq = ++fs->append_seq;
            l->last_seq = l->created_seq;
            return 0;
        }
        if (err == ENOENT && !created) {
            char *dir = mlops__fsb_path(fs, "logs/%s", l->name);
            if (!dir)
                return mlops__error_oom();
            int e = mlops__fs_mkdir_p(dir);
            int rc = 0;
            if (e == -ENOTDIR || e == -EEXIST)
                rc = mlops__error_set(MLOPS_EEXISTS, "log '%s' cannot be created: a file is in the way of '%s'",
                                      l->name, dir);
            else if (e < 0)
                rc = mlops__error_errno(-e, "cannot create directory '%s'", dir);
            mlops__free(dir);
            if (rc < 0)
                return rc;
            created = 1;
        } else if (err != EEXIST) {
            return mlops__error_errno(err, "cannot create a segment of log '%s' in '%s/logs'", l->name,
                                      fs->root);
        }
    }
    return mlops__error_set(MLOPS_EIO, "cannot create a segment of log '%s'", l->name);
}

static int ensure_open(mlops__fsb *fs, mlops__fsb_log *l)
{
    if (l->fd >= 0)
        return 0;
    if (fs->logs_open >= MAX_OPEN)
        close_least_used(fs);
    if (l->seg[0]) {
        char *path = mlops__fsb_path(fs, "logs/%s/%s", l->name, l->seg);
        if (!path)
            return mlops__error_oom();
        l->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        int err = errno;
        struct stat st;
        if (l->fd >= 0 && fstat(l->fd, &st) == 0)
            l->size = (uint64_t)st.st_size;
        mlops__free(path);
        if (l->fd < 0 && err != ENOENT)
            return mlops__error_errno(err, "cannot reopen a segment of log '%s'", l->name);
        if (l->fd < 0)
            l->seg[0] = '\0'; /* removed by hand: start a new one */
    }
    if (l->fd < 0)
        MLOPS__TRY(create_segment(fs, l));
    fs->logs_open++;
    return 0;
}

/* The write failed and could not be undone: stop using this segment, whose
 * tail may hold a partial frame (readers skip a torn tail). What it holds
 * before, and its directory entry, must still become durable: the next
 * commit point syncs the whole filesystem (no fsync here, under the
 * mutex). */
static void abandon(mlops__fsb *fs, mlops__fsb_log *l)
{
    if (fs->durability != MLOPS_DURABILITY_NONE && (l->last_seq > l->synced_seq || !l->dir_synced))
        fs->pending_overflow = 1;
    close_entry(fs, l);
    l->seg[0] = '\0';
}

/* The first write of a new segment failed and was undone: remove the empty
 * file (and the log's directory if this made it), so that a log nobody
 * appended to does not appear to exist. Best effort. */
static void drop_empty(mlops__fsb *fs, mlops__fsb_log *l)
{
    char *path = mlops__fsb_path(fs, "logs/%s/%s", l->name, l->seg);
    if (!path)
        return;
    close_entry(fs, l);
    if (unlink(path) == 0) {
        l->seg[0] = '\0';
        /* The directories the segment's creation made, up to logs/; rmdir
         * fails, rightly, where another writer's file is. */
        size_t stop = strlen(fs->root) + 5; /* "<root>/logs" */
        for (char *slash; l->created_dirs && (slash = strrchr(path, '/')) && (size_t)(slash - path) > stop;) {
            *slash = '\0';
            if (rmdir(path) < 0)
                break;
        }
    }
    mlops__free(path);
}

static int sync_entry(mlops__fsb *fs, size_t i, char *path);

/* FULL: the record at [start, end) of segment seg could not be made
 * durable. Take it back if nothing was appended after it, so that the
 * failed call changed nothing (a caller that retries would otherwise store
 * it twice: the run buffer does). Best effort: another writer's record
 * behind it, or a failing truncate, leaves it. */
static void take_back(mlops__fsb *fs, size_t i, const char *seg, uint64_t start, uint64_t end)
{
    pthread_mutex_lock(&fs->state);
    mlops__fsb_log *l = &fs->logs[i];
    if (l->fd >= 0 && l->size == end && strcmp(l->seg, seg) == 0 && ftruncate(l->fd, (off_t)start) == 0)
        l->size = start;
    pthread_mutex_unlock(&fs->state);
}

static int fs_log_append(mlops_backend *b, const char *log, const void *data, size_t len)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    MLOPS__TRY(mlops__fsb_check_writable(fs));
    MLOPS__TRY(mlops__fsb_name_check("log", log));
    size_t i = 0;
    pthread_mutex_lock(&fs->state);
    int rc = find_or_add(fs, log, &i);
    mlops__fsb_log *l = rc == 0 ? &fs->logs[i] : NULL;
    if (rc == 0)
        rc = ensure_open(fs, l);
    /* FULL: the fsync after the write must not need memory, or a record
     * already in the log would be reported as not appended. */
    char *path = NULL;
    if (rc == 0 && fs->durability == MLOPS_DURABILITY_FULL &&
        !(path = mlops__fsb_path(fs, "logs/%s/%s", l->name, l->seg)))
        rc = mlops__error_oom();
    uint64_t start = 0, end = 0;
    char seg[MLOPS__FSB_SEG_LEN + 1] = "";
    if (rc == 0 && len > 0) {
        /* One writer per segment (this instance, under this mutex): the
         * bytes land contiguously even if write() needs several calls. */
        start = l->size;
        memcpy(seg, l->seg, sizeof seg);
        int e = mlops__fs_write_all(l->fd, data, len);
        if (e < 0) {
            rc = mlops__error_errno(-e, "cannot append to log '%s'", log);
            if (ftruncate(l->fd, (off_t)l->size) < 0)
                abandon(fs, l);
            else if (l->size == 0)
                drop_empty(fs, l);
        } else {
            l->size += len;
            end = l->size;
            l->last_seq = ++fs->append_seq;
        }
    }
    if (l)
        l->last_use = fs->append_seq;
    pthread_mutex_unlock(&fs->state);
    if (rc == 0 && fs->durability == MLOPS_DURABILITY_FULL) {
        rc = sync_entry(fs, i, path);
        if (rc < 0 && end > start)
            take_back(fs, i, seg, start, end);
        return rc;
    }
    mlops__free(path);
    return rc;
}

/* fsyncs entry i outside the mutex (on a dup of its fd, or a fresh one if
 * the table closed it) so other logs keep appending meanwhile. path (may
 * be NULL; consumed) is the segment's path, made beforehand by a caller
 * that must not fail for lack of memory here. */
static int sync_entry(mlops__fsb *fs, size_t i, char *path)
{
    char seg[MLOPS__FSB_SEG_LEN + 1];
    pthread_mutex_lock(&fs->state);
    mlops__fsb_log *l = &fs->logs[i];
    const char *name = l->name; /* entries are never freed before the backend */
    uint64_t seq = l->last_seq;
    int need_dir = !l->dir_synced, created_dirs = l->created_dirs;
    if (!l->seg[0] || (seq <= l->synced_seq && !need_dir)) {
        pthread_mutex_unlock(&fs->state);
        mlops__free(path);
        return 0;
    }
    memcpy(seg, l->seg, sizeof seg);
    int fd = l->fd >= 0 ? fcntl(l->fd, F_DUPFD_CLOEXEC, 0) : -1;
    pthread_mutex_unlock(&fs->state);

    size_t plen = path ? strlen(path) : 0;
    if (path && (plen < MLOPS__FSB_SEG_LEN || strcmp(path + plen - MLOPS__FSB_SEG_LEN, seg) != 0)) {
        mlops__free(path); /* the segment changed meanwhile */
        path = NULL;
    }
    if (!path)
        path = mlops__fsb_path(fs, "logs/%s/%s", name, seg);
    if (!path) {
        if (fd >= 0)
            close(fd);
        return mlops__error_oom();
    }
    int rc;
    if (fd < 0) {
        rc = mlops__fsb_fsync_file(path, 0);
    } else {
        int e = mlops__fs_fsync(fd);
        close(fd);
        rc = e < 0 ? mlops__error_errno(-e, "cannot fsync '%s'", path) : 0;
    }
    if (rc == 0 && need_dir) {
        *strrchr(path, '/') = '\0';
        /* New parents: their entries up to logs/ must be durable too. */
        rc = mlops__fsb_fsync_dirs_up_in(path, created_dirs ? strlen(fs->root) + 5 : strlen(path));
    }
    mlops__free(path);
    if (rc == 0) {
        pthread_mutex_lock(&fs->state);
        l = &fs->logs[i];
        if (strcmp(l->seg, seg) == 0) {
            if (seq > l->synced_seq)
                l->synced_seq = seq;
            if (need_dir)
                l->dir_synced = 1;
        }
        pthread_mutex_unlock(&fs->state);
    }
    return rc;
}

static int fs_log_sync(mlops_backend *b, const char *log)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    MLOPS__TRY(mlops__fsb_name_check("log", log));
    if (fs->readonly || fs->durability == MLOPS_DURABILITY_NONE)
        return 0;
    pthread_mutex_lock(&fs->state);
    size_t i = 0;
    while (i < fs->nlogs && strcmp(fs->logs[i].name, log) != 0)
        i++;
    int found = i < fs->nlogs;
    pthread_mutex_unlock(&fs->state);
    return found ? sync_entry(fs, i, NULL) : 0; /* nothing appended here */
}

int mlops__fsb_logs_sync_all(mlops__fsb *fs, int syncfs_done, uint64_t covered)
{
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&fs->state);
        if (i >= fs->nlogs) {
            pthread_mutex_unlock(&fs->state);
            return 0;
        }
        if (syncfs_done) {
            mlops__fsb_log *l = &fs->logs[i];
            if (l->last_seq <= covered && l->synced_seq < l->last_seq)
                l->synced_seq = l->last_seq;
            if (l->seg[0] && l->created_seq <= covered)
                l->dir_synced = 1;
        }
        pthread_mutex_unlock(&fs->state);
        if (!syncfs_done)
            MLOPS__TRY(sync_entry(fs, i, NULL));
    }
}

void mlops__fsb_logs_free(mlops__fsb *fs)
{
    for (size_t i = 0; i < fs->nlogs; i++) {
        close_entry(fs, &fs->logs[i]);
        mlops__free(fs->logs[i].name);
    }
    mlops__free(fs->logs);
    fs->logs = NULL;
    fs->nlogs = fs->logs_cap = 0;
}

void mlops__fsb_logs_setup(mlops_backend *b)
{
    b->log_append = fs_log_append;
    b->log_sync = fs_log_sync;
}
