/* The store handle: options, opening over a backend, commit points. */
#include <stddef.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/options.h"
#include "store_internal.h"

static const mlops_store_options defaults = MLOPS_STORE_OPTIONS_INIT;

int mlops_store_options_init(mlops_store_options *opts, unsigned int version)
{
    return mlops__options_init(opts, &defaults, sizeof defaults, version, MLOPS_STORE_OPTIONS_VERSION, "store");
}

static int check_options(mlops_store_options *out, const mlops_store_options *in)
{
    if (!in) {
        *out = defaults;
        return 0;
    }
    MLOPS__TRY(mlops__options_version(in->version, MLOPS_STORE_OPTIONS_VERSION, "store"));
    if ((unsigned)in->durability > MLOPS_DURABILITY_FULL)
        return mlops__error_set(MLOPS_EINVALID, "unknown durability mode %d", (int)in->durability);
    if ((unsigned)in->compression > MLOPS_COMPRESSION_ALWAYS)
        return mlops__error_set(MLOPS_EINVALID, "unknown compression mode %d", (int)in->compression);
    if (in->compression_level < 1 || in->compression_level > 9)
        return mlops__error_set(MLOPS_EINVALID, "compression level %d is outside 1..9", in->compression_level);
    if (in->flags & ~(MLOPS_STORE_NO_CREATE | MLOPS_STORE_READONLY))
        return mlops__error_set(MLOPS_EINVALID, "unknown store flags 0x%x", in->flags);
    if (in->compress_limit > ((uint64_t)1 << 30))
        return mlops__error_set(MLOPS_EINVALID, "compress_limit above 1 GiB would hold too much in memory");
    *out = *in;
    return 0;
}

/* Bytes of struct mlops_backend that a caller of this version has: each
 * version only appends members. 0 for an unknown version. */
static size_t vtable_size(unsigned int version)
{
    switch (version) {
    case 1:
        return offsetof(mlops_backend, ref_commit);
    case 2:
        return sizeof(mlops_backend);
    default:
        return 0;
    }
}

static int vtable_complete(const mlops_backend *b)
{
    return b->obj_exists && b->obj_stat && b->obj_write_open && b->obj_write && b->obj_write_commit &&
           b->obj_write_abort && b->obj_read_open && b->obj_read && b->obj_read_close && b->obj_delete &&
           b->obj_foreach && b->ref_read && b->ref_cas && b->ref_foreach && b->log_append && b->log_sync &&
           b->log_segments && b->log_read && b->log_foreach && b->sync;
}

/* Wraps a ready backend; on failure the caller still owns the backend. */
static int wrap(mlops_store **out, const mlops_backend *be, const mlops_store_options *opts)
{
    mlops_store *s = mlops__calloc(1, sizeof *s);
    if (!s)
        return mlops__error_oom();
    s->be = *be;
    s->opts = *opts;
    s->readonly = (opts->flags & MLOPS_STORE_READONLY) != 0;
    *out = s;
    return 0;
}

int mlops_store_open(mlops_store **out, const char *path, const mlops_store_options *opts)
{
    mlops_store_options o;
    if (!out || !path)
        return mlops__error_set(MLOPS_EINVALID, "store_open: NULL argument");
    *out = NULL;
    MLOPS__TRY(check_options(&o, opts));
    if (!*path)
        return mlops__error_set(MLOPS_EINVALID, "store path is empty");
    mlops_backend be;
    memset(&be, 0, sizeof be);
    MLOPS__TRY(mlops__backend_fs_open(&be, path, &o));
    int rc = wrap(out, &be, &o);
    if (rc < 0)
        be.free(&be);
    else
        (*out)->obj_touch = mlops__fsb_obj_touch;
    return rc;
}

int mlops_store_open_memory(mlops_store **out, const mlops_store_options *opts)
{
    mlops_store_options o;
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "store_open_memory: NULL argument");
    *out = NULL;
    MLOPS__TRY(check_options(&o, opts));
    mlops_backend be;
    memset(&be, 0, sizeof be);
    MLOPS__TRY(mlops__backend_memory_new(&be));
    int rc = wrap(out, &be, &o);
    if (rc < 0)
        be.free(&be);
    else
        (*out)->obj_touch = mlops__memory_obj_touch;
    return rc;
}

int mlops_store_open_backend(mlops_store **out, const mlops_backend *backend, const mlops_store_options *opts)
{
    mlops_store_options o;
    if (!out || !backend)
        return mlops__error_set(MLOPS_EINVALID, "store_open_backend: NULL argument");
    *out = NULL;
    size_t size = vtable_size(backend->version);
    if (!size)
        return mlops__error_set(MLOPS_EINVALID, "backend version %u is unknown (expected 1..%u)", backend->version,
                                MLOPS_BACKEND_VERSION);
    mlops_backend be;
    memset(&be, 0, sizeof be);
    memcpy(&be, backend, size); /* an older caller's struct is shorter */
    if (!vtable_complete(&be))
        return mlops__error_set(MLOPS_EINVALID, "backend vtable is missing a function");
    MLOPS__TRY(check_options(&o, opts));
    return wrap(out, &be, &o);
}

int mlops_store_sync(mlops_store *s)
{
    if (!s)
        return mlops__error_set(MLOPS_EINVALID, "store_sync: NULL argument");
    if (s->readonly || s->opts.durability == MLOPS_DURABILITY_NONE)
        return 0;
    return s->be.sync(&s->be);
}

void mlops_store_free(mlops_store *s)
{
    if (!s)
        return;
    if (!s->readonly && s->opts.durability != MLOPS_DURABILITY_NONE)
        (void)s->be.sync(&s->be); /* best effort: nothing to report it to */
    if (s->be.free)
        s->be.free(&s->be);
    mlops__free(s);
}

int mlops__store_check_writable(mlops_store *s)
{
    if (!s)
        return mlops__error_set(MLOPS_EINVALID, "store handle is NULL");
    if (s->readonly)
        return mlops__error_set(MLOPS_EPERM, "store is opened read-only");
    return 0;
}

int mlops_backend_init(mlops_backend *b, unsigned int version)
{
    if (!b)
        return mlops__error_set(MLOPS_EINVALID, "backend_init: NULL argument");
    size_t size = vtable_size(version);
    if (!size)
        return mlops__error_set(MLOPS_EINVALID, "backend version %u is unknown (expected 1..%u)", version,
                                MLOPS_BACKEND_VERSION);
    memset(b, 0, size);
    b->version = version;
    return 0;
}

int mlops_backend_error_set(int code, const char *message)
{
    if (code >= 0)
        code = MLOPS_ERROR;
    return mlops__error_set(code, "%s", message ? message : mlops_strerror(code));
}

int mlops_gc_options_init(mlops_gc_options *opts, unsigned int version)
{
    static const mlops_gc_options gc_defaults = MLOPS_GC_OPTIONS_INIT;
    return mlops__options_init(opts, &gc_defaults, sizeof gc_defaults, version, MLOPS_GC_OPTIONS_VERSION, "gc");
}
