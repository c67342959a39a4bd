/*
 * The stat cache (statcache.h; format in docs/FORMAT.md, "Stat caches").
 *
 * One ordinary object per working directory, behind the ref
 * data/statcache/<sha256 hex of the directory's real path>:
 *
 *   "MLSC" u8 version (1) u8[3] reserved (0)
 *   i64 taken_ns   u32 R   R bytes: the real path the cache is for
 *   records until the end, in tree order, each:
 *     varint P (bytes shared with the previous path), varint S, S bytes
 *     (the rest of the path), varint dev, varint ino, varint size,
 *     i64 mtime_ns, i64 ctime_ns, 32-byte id
 *
 * Paths share prefixes with their predecessor (a million files in a few
 * directories cost about 70 bytes each), and lookups come in the same
 * order as the records, so a lookup is a step of a merge join: the loaded
 * bytes plus one path buffer is all the memory a lookup needs.
 */
#include <errno.h>
#include <sys/vfs.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "statcache.h"
#include "store/object_codec.h"
#include "store/object_io.h"

#define CACHE_MAGIC "MLSC"
#define CACHE_VERSION 1
#define CACHE_HEADER (8 + 8 + 4)
#define REF_PREFIX "data/statcache/"
#define FLUSH_BYTES ((size_t)256 << 10)
#define REF_ATTEMPTS 32

struct mlops__statcache {
    unsigned char *data; /* the whole object; NULL: empty cache */
    size_t len;
    int64_t taken_ns;
    int64_t racy_ns;              /* the racy margin of the directory's filesystem */
    const unsigned char *p, *end; /* next record */
    int have;                     /* a current record is decoded */
    mlops__buf path;              /* current record */
    mlops__stat_key key;
    mlops_oid id;
};

struct mlops__statcache_writer {
    mlops_store *store;
    char *real;
    mlops_object_writer *ow;
    mlops__buf out;  /* encoded, not yet handed to ow */
    mlops__buf prev; /* previous path */
    uint64_t count;
};

void mlops__stat_key_from(mlops__stat_key *out, const struct stat *st)
{
    out->dev = (uint64_t)st->st_dev;
    out->ino = (uint64_t)st->st_ino;
    out->size = (uint64_t)st->st_size;
    out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    out->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

int64_t mlops__statcache_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Tree order: component by component, bytewise, a shorter name first. With
 * '/' ranked below every byte a name may hold, that is one byte loop. */
static int tree_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x == y)
            continue;
        x = x == '/' ? 0 : x;
        y = y == '/' ? 0 : y;
        return x < y ? -1 : 1;
    }
    return alen < blen ? -1 : alen > blen;
}

/* ---- encoding ------------------------------------------------------------ */

static int put_varint(mlops__buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return mlops__buf_put(b, tmp, n);
}

/* Minimal LEB128 of at most 10 bytes; -1 if malformed or truncated. */
static int get_varint(const unsigned char **pp, const unsigned char *end, uint64_t *out)
{
    const unsigned char *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0; p < end && shift < 70; shift += 7) {
        unsigned char c = *p++;
        if (shift == 63 && c > 1)
            return -1;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            if (c == 0 && shift)
                return -1; /* not minimal */
            *pp = p;
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Decodes the record at *pp into path (holding the previous path), key and
 * id. -1 if malformed. */
static int decode_record(const unsigned char **pp, const unsigned char *end, mlops__buf *path, mlops__stat_key *key,
                         mlops_oid *id, int *nomem)
{
    const unsigned char *p = *pp;
    uint64_t shared, n, dev, ino, size;
    if (get_varint(&p, end, &shared) < 0 || get_varint(&p, end, &n) < 0)
        return -1;
    if (shared > path->len || n == 0 || n > (uint64_t)(end - p) || memchr(p, 0, (size_t)n))
        return -1;
    path->len = (size_t)shared;
    if (mlops__buf_put(path, p, (size_t)n) < 0) {
        *nomem = 1;
        return -1;
    }
    p += n;
    if (get_varint(&p, end, &dev) < 0 || get_varint(&p, end, &ino) < 0 || get_varint(&p, end, &size) < 0)
        return -1;
    if ((size_t)(end - p) < 16 + MLOPS_OID_RAWSZ)
        return -1;
    key->dev = dev;
    key->ino = ino;
    key->size = size;
    key->mtime_ns = (int64_t)mlops__get_le64(p);
    key->ctime_ns = (int64_t)mlops__get_le64(p + 8);
    memcpy(id->id, p + 16, MLOPS_OID_RAWSZ);
    *pp = p + 16 + MLOPS_OID_RAWSZ;
    return 0;
}

/* A path a cache may hold: relative, no empty component. */
static int path_ok(const mlops__buf *b)
{
    if (b->len == 0 || b->ptr[0] == '/' || b->ptr[b->len - 1] == '/')
        return 0;
    return !memmem(b->ptr, b->len, "//", 2);
}

/* ---- loading ------------------------------------------------------------- */

int64_t mlops__statcache_racy_ns(const char *path)
{
    /* Local filesystems with nanosecond timestamps: the kernel stamps files
     * from a clock at most a jiffy (10 ms at HZ=100) behind CLOCK_REALTIME. */
    static const unsigned long fine[] = {
        0xEF53ul,     /* ext2/3/4 */
        0x58465342ul, /* xfs */
        0x9123683Eul, /* btrfs */
        0x01021994ul, /* tmpfs */
        0xF2F52010ul, /* f2fs */
        0x2FC12FC1ul, /* zfs */
        0x794C7630ul, /* overlayfs */
    };
    struct statfs fs;
    if (statfs(path, &fs) == 0)
        for (size_t i = 0; i < sizeof fine / sizeof *fine; i++)
            if ((unsigned long)fs.f_type == fine[i])
                return MLOPS__STATCACHE_RACY_LOCAL_NS;
    return MLOPS__STATCACHE_RACY_NS;
}

static int ref_name(char out[sizeof REF_PREFIX + MLOPS_OID_HEXSZ], const char *real)
{
    mlops_oid h;
    MLOPS__TRY(mlops_oid_hash(&h, real, strlen(real)));
    memcpy(out, REF_PREFIX, sizeof REF_PREFIX - 1);
    return mlops_oid_tohex(out + sizeof REF_PREFIX - 1, &h);
}

/* Checks the whole cache once, so that lookups can trust every byte:
 * 0 valid, 1 not (the cache then reads as empty), or ENOMEM. */
static int validate(mlops__statcache *c, const char *real)
{
    const unsigned char *p = c->data, *end = c->data + c->len;
    if (c->len < CACHE_HEADER || memcmp(p, CACHE_MAGIC, 4) != 0 || p[4] != CACHE_VERSION || p[5] || p[6] || p[7])
        return 1;
    uint32_t rlen = mlops__get_le32(p + 16);
    if (rlen != strlen(real) || rlen > c->len - CACHE_HEADER || memcmp(p + CACHE_HEADER, real, rlen) != 0)
        return 1;
    c->taken_ns = (int64_t)mlops__get_le64(p + 8);
    p += CACHE_HEADER + rlen;
    c->p = p;
    mlops__buf cur = MLOPS__BUF_INIT, prev = MLOPS__BUF_INIT;
    int rc = 0, nomem = 0;
    while (rc == 0 && p < end) {
        mlops__stat_key key;
        mlops_oid id;
        if (decode_record(&p, end, &cur, &key, &id, &nomem) < 0 || !path_ok(&cur) ||
            (prev.len && tree_cmp(prev.ptr, prev.len, cur.ptr, cur.len) >= 0)) {
            rc = 1;
            break;
        }
        prev.len = 0;
        if (mlops__buf_put(&prev, cur.ptr, cur.len) < 0)
            nomem = rc = 1;
    }
    /* cur has grown to hold the longest path: lookups decode into it
     * without ever allocating, so a lookup cannot fail. */
    cur.len = 0;
    mlops__buf_dispose(&c->path);
    c->path = cur;
    mlops__buf_dispose(&prev);
    return nomem ? mlops__error_oom() : rc;
}

/* Never allocates: validate() left c->path large enough for every record. */
static void advance(mlops__statcache *c)
{
    int nomem = 0;
    c->have = c->p < c->end && decode_record(&c->p, c->end, &c->path, &c->key, &c->id, &nomem) == 0;
}

/* ENOMEM, or 0 with the cache loaded or left empty (anything else wrong). */
static int load_into(mlops__statcache *c, mlops_store *store, const char *root)
{
    char *real = mlops__malloc(PATH_MAX);
    if (!real)
        return mlops__error_oom();
    char name[sizeof REF_PREFIX + MLOPS_OID_HEXSZ];
    mlops_oid id;
    void *data = NULL;
    size_t len = 0;
    int rc = realpath(root, real) ? 0 : (errno == ENOMEM ? mlops__error_oom() : 1);
    if (rc == 0)
        rc = ref_name(name, real);
    if (rc == 0)
        rc = mlops_ref_get(&id, store, name);
    if (rc == 0)
        rc = mlops__object_read_all(&data, &len, store, &id);
    if (rc == 0) {
        c->data = data;
        c->len = len;
        c->end = c->data + len;
        c->racy_ns = mlops__statcache_racy_ns(real);
        rc = validate(c, real);
    }
    if (rc != 0) {
        mlops__free(c->data);
        c->data = NULL;
        c->len = 0;
    } else {
        advance(c);
    }
    mlops__free(real);
    return rc == MLOPS_ENOMEM ? rc : 0;
}

int mlops__statcache_load(mlops__statcache **out, mlops_store *store, const char *root)
{
    if (!out || !store || !root)
        return mlops__error_set(MLOPS_EINVALID, "statcache_load: NULL argument");
    *out = NULL;
    mlops__statcache *c = mlops__calloc(1, sizeof *c);
    if (!c)
        return mlops__error_oom();
    int rc = load_into(c, store, root);
    if (rc < 0) {
        mlops__statcache_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int trusted(const mlops__statcache *c, const mlops__stat_key *k)
{
    const mlops__stat_key *m = &c->key;
    if (m->dev != k->dev || m->ino != k->ino || m->size != k->size || m->mtime_ns != k->mtime_ns ||
        m->ctime_ns != k->ctime_ns)
        return 0;
    if (c->taken_ns < INT64_MIN + c->racy_ns)
        return 0;
    return k->mtime_ns < c->taken_ns - c->racy_ns;
}

int mlops__statcache_lookup(mlops__statcache *c, const char *relpath, const mlops__stat_key *key, mlops_oid *out)
{
    if (!c || !relpath || !key || !out)
        return 0;
    size_t len = strlen(relpath);
    while (c->have) {
        int r = tree_cmp(c->path.ptr, c->path.len, relpath, len);
        if (r > 0)
            return 0;
        if (r == 0) {
            if (!trusted(c, key))
                return 0;
            *out = c->id;
            return 1;
        }
        advance(c);
    }
    return 0;
}

void mlops__statcache_free(mlops__statcache *c)
{
    if (!c)
        return;
    mlops__free(c->data);
    mlops__buf_dispose(&c->path);
    mlops__free(c);
}

/* ---- writing ------------------------------------------------------------- */

static int writer_header(mlops__statcache_writer *w, int64_t taken_ns)
{
    unsigned char h[CACHE_HEADER];
    size_t rlen = strlen(w->real);
    if (rlen > UINT32_MAX)
        return mlops__error_set(MLOPS_EINVALID, "stat cache: path too long");
    memcpy(h, CACHE_MAGIC, 4);
    h[4] = CACHE_VERSION;
    h[5] = h[6] = h[7] = 0;
    mlops__put_le64(h + 8, (uint64_t)taken_ns);
    mlops__put_le32(h + 16, (uint32_t)rlen);
    MLOPS__TRY(mlops__buf_put(&w->out, h, sizeof h));
    return mlops__buf_put(&w->out, w->real, rlen);
}

int mlops__statcache_writer_new(mlops__statcache_writer **out, mlops_store *store, const char *root,
                                int64_t taken_ns)
{
    if (!out || !store || !root)
        return mlops__error_set(MLOPS_EINVALID, "statcache_writer_new: NULL argument");
    *out = NULL;
    mlops__statcache_writer *w = mlops__calloc(1, sizeof *w);
    if (!w)
        return mlops__error_oom();
    w->store = store;
    int rc = (w->real = mlops__malloc(PATH_MAX)) ? 0 : mlops__error_oom();
    if (rc == 0 && !realpath(root, w->real))
        rc = mlops__error_errno(errno, "cannot resolve '%s'", root);
    if (rc == 0)
        rc = mlops_object_writer_new(&w->ow, store);
    if (rc == 0)
        rc = writer_header(w, taken_ns);
    if (rc < 0) {
        mlops__statcache_writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

static int flush(mlops__statcache_writer *w)
{
    int rc = mlops_object_writer_write(w->ow, w->out.ptr, w->out.len);
    w->out.len = 0;
    return rc;
}

int mlops__statcache_writer_add(mlops__statcache_writer *w, const char *relpath, const mlops__stat_key *key,
                                const mlops_oid *id)
{
    if (!w || !relpath || !key || !id)
        return mlops__error_set(MLOPS_EINVALID, "statcache_writer_add: NULL argument");
    size_t len = strlen(relpath);
    if (len == 0 || (w->count && tree_cmp(w->prev.ptr, w->prev.len, relpath, len) >= 0))
        return mlops__error_set(MLOPS_EINVALID, "stat cache: '%s' added out of tree order", relpath);
    size_t shared = 0;
    while (shared < w->prev.len && shared < len && w->prev.ptr[shared] == relpath[shared])
        shared++;
    unsigned char fixed[16];
    mlops__put_le64(fixed, (uint64_t)key->mtime_ns);
    mlops__put_le64(fixed + 8, (uint64_t)key->ctime_ns);
    MLOPS__TRY(put_varint(&w->out, shared));
    MLOPS__TRY(put_varint(&w->out, len - shared));
    MLOPS__TRY(mlops__buf_put(&w->out, relpath + shared, len - shared));
    MLOPS__TRY(put_varint(&w->out, key->dev));
    MLOPS__TRY(put_varint(&w->out, key->ino));
    MLOPS__TRY(put_varint(&w->out, key->size));
    MLOPS__TRY(mlops__buf_put(&w->out, fixed, sizeof fixed));
    MLOPS__TRY(mlops__buf_put(&w->out, id->id, MLOPS_OID_RAWSZ));
    w->prev.len = shared;
    MLOPS__TRY(mlops__buf_put(&w->prev, relpath + shared, len - shared));
    w->count++;
    return w->out.len >= FLUSH_BYTES ? flush(w) : 0;
}

/* Last writer wins: the cache is a hint, whichever snapshot finished last
 * describes the directory best. A ref holding garbage is replaced. */
static int point_ref(mlops_store *store, const char *name, const mlops_oid *id)
{
    for (int attempt = 0; attempt < REF_ATTEMPTS; attempt++) {
        mlops_oid cur;
        int rc = mlops_ref_get(&cur, store, name);
        if (rc == MLOPS_ECORRUPT) {
            rc = mlops_ref_delete(store, name, NULL);
            if (rc < 0 && rc != MLOPS_ENOTFOUND)
                return rc;
            continue;
        }
        if (rc < 0 && rc != MLOPS_ENOTFOUND)
            return rc;
        if (rc == 0 && mlops_oid_cmp(&cur, id) == 0)
            return 0;
        rc = mlops_ref_set(store, name, id, rc == 0 ? &cur : NULL);
        if (rc != MLOPS_ECONFLICT)
            return rc;
    }
    return mlops__error_set(MLOPS_ECONFLICT, "stat cache ref '%s' kept changing", name);
}

int mlops__statcache_writer_commit(mlops__statcache_writer *w)
{
    if (!w)
        return mlops__error_set(MLOPS_EINVALID, "statcache_writer_commit: NULL argument");
    char name[sizeof REF_PREFIX + MLOPS_OID_HEXSZ];
    mlops_oid id;
    MLOPS__TRY(flush(w));
    MLOPS__TRY(mlops_object_writer_finish(&id, w->ow));
    MLOPS__TRY(ref_name(name, w->real));
    return point_ref(w->store, name, &id);
}

void mlops__statcache_writer_free(mlops__statcache_writer *w)
{
    if (!w)
        return;
    mlops_object_writer_free(w->ow);
    mlops__buf_dispose(&w->out);
    mlops__buf_dispose(&w->prev);
    mlops__free(w->real);
    mlops__free(w);
}
