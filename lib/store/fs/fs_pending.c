/*
 * fs backend: what COMMIT mode still owes the disk.
 *
 * In COMMIT mode an object is published without fsync, and the next commit
 * point makes it durable. Remembering every such object would make memory
 * grow with the number of puts, so we keep at most MLOPS__FSB_PENDING_MAX
 * ids and, past that, sync the whole filesystem with syncfs(2): after a
 * burst of small puts one syncfs is cheaper than thousands of fsyncs, and
 * for a handful of objects individual fsyncs avoid flushing unrelated data.
 * Directory entries are tracked separately in a 256-bit map of the fanout
 * directories (there are only 256 of them).
 */
#include <errno.h>
#include <fcntl.h>
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

int mlops__fsb_pending_flush(mlops__fsb *fs, int *did_syncfs)
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

    *did_syncfs = 0;
    int rc = 0;
    if (overflow) {
        rc = sync_whole_fs(fs);
        *did_syncfs = rc == 0;
    } else {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = sync_object(fs, &ids[i]);
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
