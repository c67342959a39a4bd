/*
 * fs backend: removing what crashed writers left behind (the backend's
 * cleanup callback, run by gc).
 *
 * A writer killed mid-way can leave, besides nothing at all in the usual
 * case (O_TMPFILE blobs have no name):
 *   tmp/obj-<32 hex>                       a named blob temp (no O_TMPFILE)
 *   tmp/format-<16 hex>                    a store creator's format file
 *   refs/<dir>/.tmp-<16 hex>               a ref update's new value
 *   refs/<dir>/.broken-<16 hex>            a lock being broken
 *   objects/xx/<62 hex>.repair-<16 hex>    a damaged blob being replaced
 * Only files of exactly these forms, regular files (symlinks are never
 * followed) last modified before the cut-off are removed. Lock files are
 * left to the stale-lock logic of fs_lock.c, which knows whether their
 * owner still lives.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "fs_internal.h"

typedef struct cleanup {
    const char *base; /* the directory being walked */
    int (*match)(const char *dir, const char *name);
    int64_t older_than;
    int dry_run;
    uint64_t files, bytes;
    mlops__buf path;
} cleanup;

/* name is prefix followed by exactly nhex lowercase hex digits. */
static int has_form(const char *name, const char *prefix, size_t nhex)
{
    size_t plen = strlen(prefix);
    return strncmp(name, prefix, plen) == 0 && strlen(name + plen) == nhex && mlops__fsb_is_hex(name + plen, nhex);
}

static int match_tmp(const char *dir, const char *name)
{
    return !*dir && (has_form(name, MLOPS__FSB_TMP_OBJECT, 32) || has_form(name, MLOPS__FSB_TMP_FORMAT, 16));
}

static int match_refs(const char *dir, const char *name)
{
    (void)dir;
    return has_form(name, MLOPS__FSB_REF_TEMP, 16) || has_form(name, MLOPS__FSB_BROKEN_LOCK, 16);
}

static int match_objects(const char *dir, const char *name)
{
    const size_t rest = MLOPS_OID_HEXSZ - 2;
    return strlen(dir) == 2 && mlops__fsb_is_hex(dir, 2) && mlops__fsb_is_hex(name, rest) &&
           has_form(name + rest, MLOPS__FSB_REPAIR, 16);
}

static int visit(const char *dir, const char *name, void *ctx)
{
    cleanup *c = ctx;
    if (!c->match(dir, name))
        return 0;
    mlops__buf_clear(&c->path);
    int rc = *dir ? mlops__buf_printf(&c->path, "%s/%s/%s", c->base, dir, name)
                  : mlops__buf_printf(&c->path, "%s/%s", c->base, name);
    if (rc < 0)
        return rc;
    struct stat st;
    if (lstat(c->path.ptr, &st) < 0)
        return errno == ENOENT ? 0 : mlops__error_errno(errno, "cannot stat '%s'", c->path.ptr);
    if (!S_ISREG(st.st_mode) || (int64_t)st.st_mtime >= c->older_than)
        return 0;
    if (!c->dry_run && unlink(c->path.ptr) < 0) {
        if (errno == ENOENT)
            return 0; /* someone else cleaned it up */
        return mlops__error_errno(errno, "cannot remove leftover '%s'", c->path.ptr);
    }
    c->files++;
    c->bytes += (uint64_t)st.st_size;
    return 0;
}

static int fs_cleanup(mlops_backend *b, int64_t older_than_sec, int dry_run, uint64_t *out_files,
                      uint64_t *out_bytes)
{
    static const struct {
        const char *top;
        unsigned flags;
        int (*match)(const char *dir, const char *name);
    } areas[] = {
        { "tmp", 0, match_tmp },
        { "refs", MLOPS__FSB_WALK_DOTFILES, match_refs },
        { "objects", 0, match_objects },
    };
    mlops__fsb *fs = mlops__fsb_of(b);
    if (!dry_run)
        MLOPS__TRY(mlops__fsb_check_writable(fs));
    cleanup c = { NULL, NULL, older_than_sec, dry_run, 0, 0, MLOPS__BUF_INIT };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof areas / sizeof areas[0]; i++) {
        char *base = mlops__fsb_path(fs, "%s", areas[i].top);
        if (!base) {
            rc = mlops__error_oom();
            break;
        }
        c.base = base;
        c.match = areas[i].match;
        rc = mlops__fsb_walk(base, "", areas[i].flags, visit, &c);
        mlops__free(base);
    }
    mlops__buf_dispose(&c.path);
    if (out_files)
        *out_files += c.files;
    if (out_bytes)
        *out_bytes += c.bytes;
    return rc;
}

void mlops__fsb_cleanup_setup(mlops_backend *b)
{
    b->cleanup = fs_cleanup;
}
