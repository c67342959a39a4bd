/*
 * fs backend: what COMMIT mode still owes the disk, and how to pay it.
 *
 * In COMMIT mode an object is published without fsync, and the next commit
 * point makes it durable. Remembering every such object would make memory
 * grow with the number of puts, so we keep at most MLOPS__FSB_PENDING_MAX
 * ids and, past that, sync the whole filesystem with syncfs(2). Directory
 * entries are tracked separately in a 256-bit map of the fanout
 * directories (there are only 256 of them).
 *
 * Paying: every fsync ends in a flush of the device's write cache, and
 * that flush, not the few bytes written, is what a small commit costs
 * (about 0.1-0.25 ms each on the VMs we measured). A model registration
 * owes two objects, their two fanout directories and the ref's temp
 * file: five flushes one after the other. One syncfs writes them all and
 * flushes once, but it also writes back whatever else is dirty on the
 * filesystem, which could be gigabytes of someone's checkpoint. So we
 * use syncfs only when that extra work is bounded: when the kernel
 * reports at most mlops__fsb_syncfs_slack bytes per fsync saved still to
 * be written (Dirty + Writeback, system-wide, so an overestimate).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/fault.h"
#include "common/fs.h"
#include "fs_internal.h"

void mlops__fsb_pending_add(mlops__fsb *fs, const mlops_oid *id, int created_fanout)
{
    pthread_mutex_lock(&fs->state);
    if (!fs->pending_overflow) {
        size_t i = 0;
        while (i < fs->npending && memcmp(&fs->pending[i], id, sizeof *id) != 0)
            i++;
        if (i == fs->npending) {
            if (fs->npending < MLOPS__FSB_PENDING_MAX)
                fs->pending[fs->npending++] = *id;
            else
                fs->pending_overflow = 1;
        }
    }
    fs->dirty_fanout[id->id[0] >> 3] |= (unsigned char)(1u << (id->id[0] & 7));
    if (created_fanout)
        fs->objects_dir_dirty = 1;
    pthread_mutex_unlock(&fs->state);
}

/* Writing back 256 KiB takes about as long as one device flush on the
 * disks we measured (a few hundred MB/s, a flush of 0.1-1 ms), so syncfs
 * costs at most what the fsyncs it replaces would have. */
uint64_t mlops__fsb_syncfs_slack = (uint64_t)256 << 10;

int mlops__fsb_prefer_syncfs(size_t fsyncs, uint64_t unwritten)
{
    if (fsyncs < 2 || unwritten == UINT64_MAX || mlops__fsb_syncfs_slack == 0)
        return 0;
    return unwritten / fsyncs <= mlops__fsb_syncfs_slack;
}

static int meminfo_field(const char *text, const char *key, uint64_t *kib)
{
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, klen) != 0 || p[klen] != ':')
            continue;
        char *end;
        unsigned long long v = strtoull(p + klen + 1, &end, 10);
        if (end == p + klen + 1)
            return 0;
        while (*end == ' ')
            end++;
        if (strncmp(end, "kB", 2) != 0)
            return 0;
        *kib = v;
        return 1;
    }
    return 0;
}

uint64_t mlops__fsb_meminfo_unwritten(const char *meminfo)
{
    uint64_t dirty, writeback;
    if (!meminfo_field(meminfo, "Dirty", &dirty) || !meminfo_field(meminfo, "Writeback", &writeback))
        return UINT64_MAX;
    if (dirty > (UINT64_MAX >> 11) || writeback > (UINT64_MAX >> 11))
        return UINT64_MAX;
    return (dirty + writeback) << 10;
}

static uint64_t unwritten_now(void)
{
#ifdef __linux__
    char text[8192];
    int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return UINT64_MAX;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return UINT64_MAX;
    text[n] = '\0';
    return mlops__fsb_meminfo_unwritten(text);
#else
    return UINT64_MAX; /* sync(2) would flush every filesystem: never worth it */
#endif
}

static int sync_whole_fs(mlops__fsb *fs)
{
    int err = mlops__fault_hit(MLOPS__FAULT_FSYNC);
    if (!err) {
#ifdef __linux__
        err = syncfs(fs->root_fd) < 0 ? errno : 0;
#else
        sync();
#endif
    }
    if (err)
        return mlops__error_errno(err, "cannot sync the filesystem of '%s'", fs->root);
    return 0;
}

static int sync_object(mlops__fsb *fs, const mlops_oid *id)
{
    char rel[80];
    mlops__fsb_object_rel(rel, id);
    char *path = mlops__fsb_path(fs, "%s", rel);
    if (!path)
        return mlops__error_oom();
    /* Deleted since (gc): nothing left to make durable. */
    int rc = mlops__fsb_fsync_file(path, 1);
    mlops__free(path);
    return rc;
}

static int sync_dir(mlops__fsb *fs, const char *rel)
{
    char *path = mlops__fsb_path(fs, "%s", rel);
    if (!path)
        return mlops__error_oom();
    int rc = 0;
    int e = mlops__fs_fsync_dir(path);
    if (e < 0 && e != -ENOENT)
        rc = mlops__error_errno(-e, "cannot fsync directory '%s'", path);
    mlops__free(path);
    return rc;
}

static size_t count_bits(const unsigned char map[32])
{
    size_t n = 0;
    for (int i = 0; i < 32; i++)
        for (unsigned v = map[i]; v; v &= v - 1)
            n++;
    return n;
}

static int sync_fanouts(mlops__fsb *fs, const unsigned char fanout[32], int objects_dirty)
{
    int rc = 0;
    for (unsigned int f = 0; f < 256 && rc == 0; f++) {
        if (!(fanout[f >> 3] & (1u << (f & 7))))
            continue;
        char rel[16];
        static const char hex[] = "0123456789abcdef";
        memcpy(rel, "objects/", 8);
        rel[8] = hex[f >> 4];
        rel[9] = hex[f & 15];
        rel[10] = '\0';
        rc = sync_dir(fs, rel);
    }
    if (rc == 0 && objects_dirty)
        rc = sync_dir(fs, "objects");
    return rc;
}

int mlops__fsb_pending_flush(mlops__fsb *fs, const char *also_path, int *did_syncfs)
{
    mlops_oid ids[MLOPS__FSB_PENDING_MAX];
    unsigned char fanout[32];

    pthread_mutex_lock(&fs->state);
    size_t n = fs->npending;
    int overflow = fs->pending_overflow;
    int objects_dirty = fs->objects_dir_dirty;
    memcpy(ids, fs->pending, n * sizeof ids[0]);
    memcpy(fanout, fs->dirty_fanout, sizeof fanout);
    fs->npending = 0;
    fs->pending_overflow = 0;
    fs->objects_dir_dirty = 0;
    memset(fs->dirty_fanout, 0, sizeof fs->dirty_fanout);
    pthread_mutex_unlock(&fs->state);

    size_t fsyncs = n + count_bits(fanout) + (objects_dirty != 0) + (also_path != NULL);
    *did_syncfs = 0;
    int rc = 0;
    if (overflow || mlops__fsb_prefer_syncfs(fsyncs, unwritten_now())) {
        rc = sync_whole_fs(fs);
        *did_syncfs = rc == 0;
    } else {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = sync_object(fs, &ids[i]);
        if (rc == 0)
            rc = sync_fanouts(fs, fanout, objects_dirty);
        if (rc == 0 && also_path)
            rc = mlops__fsb_fsync_file(also_path, 0);
    }
    if (rc < 0) {
        /* What we took is not known to be durable: make the next commit
         * point sync everything rather than lose track of it. */
        pthread_mutex_lock(&fs->state);
        fs->pending_overflow = 1;
        pthread_mutex_unlock(&fs->state);
    }
    return rc;
}
