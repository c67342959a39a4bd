/*
 * fs backend: ref lock files, refs/<name>.lock, taken with O_CREAT|O_EXCL.
 *
 * No flock(): it is not reliable across hosts on a shared filesystem, and
 * O_EXCL creation is atomic on every POSIX filesystem that matters (NFSv3+
 * included). The price is that a crashed holder leaves its lock behind, so
 * a lock is broken when it is older than stale_lock_ms or when its owner,
 * recorded in the file as "pid/host/time", is a dead process on this host.
 *
 * Breaking is rename-then-unlink: rename to a unique name succeeds for one
 * breaker only. A breaker that decided on one lock file but renamed a newer
 * one (the holder changed in between) sees another inode and puts it back;
 * a holder re-checks that its lock file is still its own just before it
 * publishes (mlops__fsb_lock_check), so a broken holder fails with
 * MLOPS_ELOCKED instead of overwriting someone else's update.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/fs.h"
#include "fs_internal.h"

#define BACKOFF_MIN_US 50
#define BACKOFF_MAX_US 5000

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Jittered so that waiters that collided once do not collide again. */
static void backoff(unsigned int *delay_us, uint64_t *rng)
{
    *rng = *rng * 6364136223846793005u + 1442695040888963407u;
    unsigned int d = *delay_us;
    unsigned int us = d / 2 + (unsigned int)((*rng >> 33) % (d / 2 + 1));
    struct timespec ts = { 0, (long)us * 1000 };
    nanosleep(&ts, NULL);
    *delay_us = d * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US : d * 2;
}

/* 1 if the lock file names a process of this host that no longer exists. */
static int owner_is_dead(const mlops__fsb *fs, const char *lock, const struct stat *seen)
{
    int fd = open(lock, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char text[512];
    size_t n = 0;
    struct stat st;
    int same = fstat(fd, &st) == 0 && st.st_ino == seen->st_ino && st.st_dev == seen->st_dev;
    int e = same ? mlops__fs_read_full(fd, text, sizeof text - 1, &n) : -1;
    close(fd);
    if (e < 0)
        return 0;
    text[n] = '\0';
    /* A lock still being written (empty), or already holding the new value,
     * has no owner line: it is not judged dead, only old. */
    long pid = 0;
    char host[256];
    if (sscanf(text, "pid %ld\nhost %255s\n", &pid, host) != 2 || pid <= 0)
        return 0;
    if (strcmp(host, fs->hostname) != 0 || (pid_t)pid == getpid())
        return 0;
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Returns 1 when the lock is gone (retry at once), 0 when it is live. */
static int break_lock(const char *lock, const struct stat *seen)
{
    char *broken = NULL;
    int rc = mlops__fsb_name_beside(&broken, lock, MLOPS__FSB_BROKEN_LOCK);
    if (rc < 0)
        return rc;
    rc = 1;
    int e = mlops__fs_rename(lock, broken);
    if (e < 0 && e != -ENOENT) {
        rc = mlops__error_errno(-e, "cannot break stale lock '%s'", lock);
    } else if (e == 0) {
        struct stat st;
        if (lstat(broken, &st) == 0 && (st.st_ino != seen->st_ino || st.st_dev != seen->st_dev))
            (void)mlops__fs_link(broken, lock); /* a live lock: give it back */
        unlink(broken);
    }
    mlops__free(broken);
    return rc;
}

/* 1 if the lock was stale and is gone now, 0 if it is live, or an error. */
static int try_break_stale(const mlops__fsb *fs, const char *lock)
{
    struct stat st;
    if (lstat(lock, &st) < 0)
        return errno == ENOENT ? 1 : mlops__error_errno(errno, "cannot stat lock '%s'", lock);
    int64_t mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    int stale = fs->stale_lock_ms > 0 && mlops__time_ms() - mtime_ms > (int64_t)fs->stale_lock_ms;
    if (!stale)
        stale = owner_is_dead(fs, lock, &st);
    return stale ? break_lock(lock, &st) : 0;
}

/* A ref "a" stands where "a/b" needs a directory: name the culprit. */
static int name_conflict(const mlops__fsb *fs, const char *name)
{
    for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
        char *path = mlops__fsb_path(fs, "refs/%.*s", (int)(p - name), name);
        if (!path)
            return mlops__error_oom();
        struct stat st;
        int is_file = lstat(path, &st) == 0 && !S_ISDIR(st.st_mode);
        mlops__free(path);
        if (is_file)
            return mlops__error_set(MLOPS_EEXISTS, "ref '%s' conflicts with existing ref '%.*s'", name,
                                    (int)(p - name), name);
    }
    return mlops__error_set(MLOPS_EEXISTS, "ref '%s' conflicts with an existing ref", name);
}

static int make_parents(mlops__fsb *fs, const char *name, const char *lock)
{
    const char *slash = strrchr(lock, '/');
    char *dir = mlops__strndup(lock, (size_t)(slash - lock));
    if (!dir)
        return mlops__error_oom();
    int e = mlops__fs_mkdir_p(dir);
    int rc = 0;
    if (e == -ENOTDIR || e == -EEXIST)
        rc = name_conflict(fs, name);
    else if (e < 0)
        rc = mlops__error_errno(-e, "cannot create directory '%s'", dir);
    mlops__free(dir);
    return rc;
}

static int write_owner(mlops__fsb *fs, int fd, const char *lock)
{
    char text[512];
    int n = snprintf(text, sizeof text, "pid %ld\nhost %s\ntime %" PRId64 "\n", (long)getpid(),
                     fs->hostname, mlops__time_ms());
    int e = mlops__fs_write_all(fd, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
    return e < 0 ? mlops__error_errno(-e, "cannot write lock '%s'", lock) : 0;
}

int mlops__fsb_lock_acquire(mlops__fsb_lock *out, mlops__fsb *fs, const char *name, const char *ref_path)
{
    size_t len = strlen(ref_path);
    char *lock = mlops__malloc(len + 6);
    if (!lock)
        return mlops__error_oom();
    memcpy(lock, ref_path, len);
    memcpy(lock + len, ".lock", 6);

    int64_t deadline = mono_ms() + (int64_t)fs->lock_timeout_ms;
    unsigned int delay = BACKOFF_MIN_US;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t rng = (uint64_t)now.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&now;
    int created_dirs = 0, mkdirs = 0, rc;
    for (;;) {
        int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            rc = write_owner(fs, fd, lock);
            if (rc < 0) {
                close(fd);
                unlink(lock);
                break;
            }
            out->path = lock;
            out->fd = fd;
            out->created_dirs = created_dirs;
            return 0;
        }
        int err = errno;
        if (err == ENOENT || err == ENOTDIR) {
            rc = make_parents(fs, name, lock);
            if (rc < 0)
                break;
            created_dirs = 1;
            mkdirs++;
        } else if (err != EEXIST) {
            rc = mlops__error_errno(err, "cannot create lock '%s'", lock);
            break;
        } else {
            rc = try_break_stale(fs, lock);
            if (rc < 0)
                break;
            if (rc == 1)
                continue;
        }
        if (mono_ms() >= deadline) {
            rc = mlops__error_set(MLOPS_ELOCKED, "ref '%s' is locked by another writer (lock file '%s')",
                                  name, lock);
            break;
        }
        /* Directories are retried at once the first time; later a
         * concurrent delete keeps removing them: wait like for a lock. */
        if (err == EEXIST || mkdirs > 1)
            backoff(&delay, &rng);
    }
    mlops__free(lock);
    return rc;
}

static int still_ours(const mlops__fsb_lock *lock)
{
    struct stat mine, there;
    return fstat(lock->fd, &mine) == 0 && lstat(lock->path, &there) == 0 && mine.st_ino == there.st_ino &&
           mine.st_dev == there.st_dev;
}

int mlops__fsb_lock_check(const mlops__fsb_lock *lock)
{
    if (!still_ours(lock))
        return mlops__error_set(MLOPS_ELOCKED, "lock '%s' was broken by another writer (held too long?)",
                                lock->path);
    return 0;
}

void mlops__fsb_lock_release(mlops__fsb_lock *lock, int remove)
{
    /* Never remove a lock that was broken and taken by someone else. */
    if (remove && lock->path && lock->fd >= 0 && still_ours(lock))
        unlink(lock->path);
    if (lock->fd >= 0)
        close(lock->fd);
    lock->fd = -1;
    mlops__free(lock->path);
    lock->path = NULL;
}
