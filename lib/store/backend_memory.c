/*
 * The memory backend: blobs, refs and logs in this process's memory, behind
 * one mutex. Meant for tests and ephemeral use, so plain sorted arrays and
 * linear structures are enough; every operation is O(log n) or O(n).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/sorted.h"
#include "store_internal.h"

typedef struct mem_blob {
    mlops_oid id;
    unsigned char *data;
    size_t len;
    int64_t mtime;
} mem_blob;

typedef struct mem_named {
    char *name;
    mlops_oid id;   /* refs */
    mlops__buf log; /* logs: the one segment */
} mem_named;

typedef struct mem_backend {
    pthread_mutex_t lock;
    mem_blob *blobs; /* sorted by id */
    size_t nblobs, capblobs;
    mem_named *refs; /* sorted by name */
    size_t nrefs, caprefs;
    mem_named *logs; /* sorted by name */
    size_t nlogs, caplogs;
} mem_backend;

typedef struct mem_reader {
    unsigned char *data; /* a copy: the blob may be deleted meanwhile */
    size_t len, pos;
} mem_reader;

#define MB(b) ((mem_backend *)(b)->payload)

static int blob_cmp(const void *blob, const void *id)
{
    return memcmp(((const mem_blob *)blob)->id.id, ((const mlops_oid *)id)->id, MLOPS_OID_RAWSZ);
}

static int named_cmp(const void *named, const void *name)
{
    return strcmp(((const mem_named *)named)->name, name);
}

static size_t blob_pos(mem_backend *m, const mlops_oid *id, int *found)
{
    return mlops__sorted_pos(m->blobs, m->nblobs, sizeof m->blobs[0], blob_cmp, id, found);
}

static size_t named_pos(mem_named *v, size_t n, const char *name, int *found)
{
    return mlops__sorted_pos(v, n, sizeof v[0], named_cmp, name, found);
}

/* Makes room for one more element of size sz in *v. */
static int reserve(void **v, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap)
        return 0;
    void *p = mlops__grow_array(*v, cap, sz, 16);
    if (!p)
        return mlops__error_oom();
    *v = p;
    return 0;
}

static int mem_obj_exists(mlops_backend *b, const mlops_oid *id)
{
    mem_backend *m = MB(b);
    int found;
    pthread_mutex_lock(&m->lock);
    blob_pos(m, id, &found);
    pthread_mutex_unlock(&m->lock);
    return found;
}

static int mem_obj_stat(mlops_backend *b, const mlops_oid *id, uint64_t *size, int64_t *mtime)
{
    mem_backend *m = MB(b);
    int found;
    pthread_mutex_lock(&m->lock);
    size_t i = blob_pos(m, id, &found);
    if (found) {
        *size = m->blobs[i].len;
        *mtime = m->blobs[i].mtime;
    }
    pthread_mutex_unlock(&m->lock);
    return found ? 0 : mlops__error_set(MLOPS_ENOTFOUND, "object not found in memory store");
}

int mlops__memory_obj_touch(mlops_backend *b, const mlops_oid *id, uint64_t *stored_size)
{
    mem_backend *m = MB(b);
    int found;
    pthread_mutex_lock(&m->lock);
    size_t i = blob_pos(m, id, &found);
    if (found) {
        m->blobs[i].mtime = mlops__time_ms() / 1000;
        *stored_size = m->blobs[i].len;
    }
    pthread_mutex_unlock(&m->lock);
    return found;
}

static int mem_obj_write_open(mlops_backend *b, void **out)
{
    (void)b;
    mlops__buf *buf = mlops__calloc(1, sizeof *buf);
    if (!buf)
        return mlops__error_oom();
    *out = buf;
    return 0;
}

static int mem_obj_write(mlops_backend *b, void *w, const void *data, size_t len)
{
    (void)b;
    return mlops__buf_put(w, data, len);
}

static void mem_obj_write_abort(mlops_backend *b, void *w)
{
    (void)b;
    mlops__buf_dispose(w);
    mlops__free(w);
}

static int mem_obj_write_commit(mlops_backend *b, void *w, const mlops_oid *id)
{
    mem_backend *m = MB(b);
    mlops__buf *buf = w;
    int found, rc = 0;
    pthread_mutex_lock(&m->lock);
    size_t i = blob_pos(m, id, &found);
    if (found) {
        m->blobs[i].mtime = mlops__time_ms() / 1000; /* refresh for gc's grace period */
    } else if ((rc = reserve((void **)&m->blobs, m->nblobs, &m->capblobs, sizeof *m->blobs)) == 0) {
        memmove(m->blobs + i + 1, m->blobs + i, (m->nblobs - i) * sizeof *m->blobs);
        size_t len = 0;
        unsigned char *data = (unsigned char *)mlops__buf_detach(buf, &len);
        if (!data) {
            memmove(m->blobs + i, m->blobs + i + 1, (m->nblobs - i) * sizeof *m->blobs);
            rc = mlops__error_oom();
        } else {
            m->blobs[i] = (mem_blob){ *id, data, len, mlops__time_ms() / 1000 };
            m->nblobs++;
        }
    }
    pthread_mutex_unlock(&m->lock);
    mem_obj_write_abort(b, buf);
    return rc;
}

static int mem_obj_read_open(mlops_backend *b, const mlops_oid *id, void **out)
{
    mem_backend *m = MB(b);
    mem_reader *r = mlops__calloc(1, sizeof *r);
    if (!r)
        return mlops__error_oom();
    int found, rc = 0;
    pthread_mutex_lock(&m->lock);
    size_t i = blob_pos(m, id, &found);
    if (!found)
        rc = MLOPS_ENOTFOUND;
    else if (!(r->data = mlops__memdup(m->blobs[i].data, m->blobs[i].len)))
        rc = mlops__error_oom();
    else
        r->len = m->blobs[i].len;
    pthread_mutex_unlock(&m->lock);
    if (rc < 0) {
        mlops__free(r);
        return rc == MLOPS_ENOTFOUND ? mlops__error_set(rc, "object not found in memory store") : rc;
    }
    *out = r;
    return 0;
}

static int mem_obj_read(mlops_backend *b, void *rp, void *buf, size_t cap, size_t *out_n)
{
    (void)b;
    mem_reader *r = rp;
    size_t n = r->len - r->pos < cap ? r->len - r->pos : cap;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    *out_n = n;
    return 0;
}

static void mem_obj_read_close(mlops_backend *b, void *rp)
{
    (void)b;
    mem_reader *r = rp;
    mlops__free(r->data);
    mlops__free(r);
}

static int mem_obj_delete(mlops_backend *b, const mlops_oid *id)
{
    mem_backend *m = MB(b);
    int found;
    pthread_mutex_lock(&m->lock);
    size_t i = blob_pos(m, id, &found);
    if (found) {
        mlops__free(m->blobs[i].data);
        memmove(m->blobs + i, m->blobs + i + 1, (m->nblobs - i - 1) * sizeof *m->blobs);
        m->nblobs--;
    }
    pthread_mutex_unlock(&m->lock);
    return found ? 0 : mlops__error_set(MLOPS_ENOTFOUND, "object not found in memory store");
}

static int mem_obj_foreach(mlops_backend *b, mlops_backend_object_cb cb, void *payload)
{
    mem_backend *m = MB(b);
    /* Copy the list first: the callback may call back into the backend. */
    pthread_mutex_lock(&m->lock);
    size_t n = m->nblobs;
    mem_blob *copy = mlops__memdup(m->blobs, n * sizeof *copy);
    pthread_mutex_unlock(&m->lock);
    if (!copy && n)
        return mlops__error_oom();
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cb(&copy[i].id, copy[i].len, copy[i].mtime, payload);
    mlops__free(copy);
    return rc;
}

static int mem_ref_read(mlops_backend *b, const char *name, mlops_oid *out)
{
    mem_backend *m = MB(b);
    int found;
    pthread_mutex_lock(&m->lock);
    size_t i = named_pos(m->refs, m->nrefs, name, &found);
    if (found)
        *out = m->refs[i].id;
    pthread_mutex_unlock(&m->lock);
    return found ? 0 : MLOPS_ENOTFOUND;
}

/* Refs nest like files, as on disk: "a" and "a/b" cannot both exist. */
static int name_conflict(mem_backend *m, const char *name)
{
    size_t len = strlen(name);
    int found;
    /* Names under "name/" sort together, right where "name/" would go. */
    char *dir = mlops__malloc(len + 2);
    if (!dir)
        return mlops__error_oom();
    memcpy(dir, name, len);
    memcpy(dir + len, "/", 2);
    size_t at = named_pos(m->refs, m->nrefs, dir, &found);
    int under = at < m->nrefs && strncmp(m->refs[at].name, dir, len + 1) == 0;
    mlops__free(dir);
    if (under)
        return mlops__error_set(MLOPS_EEXISTS, "ref '%s' conflicts with existing refs under '%s/'", name, name);
    for (size_t i = 1; i < len; i++) {
        if (name[i] != '/')
            continue;
        char *parent = mlops__strndup(name, i);
        if (!parent)
            return mlops__error_oom();
        named_pos(m->refs, m->nrefs, parent, &found);
        mlops__free(parent);
        if (found)
            return mlops__error_set(MLOPS_EEXISTS, "ref '%s' conflicts with the existing ref '%.*s'", name,
                                    (int)i, name);
    }
    return 0;
}

static int ref_cas_locked(mem_backend *m, const char *name, const mlops_oid *expected, const mlops_oid *new_id)
{
    int found;
    size_t i = named_pos(m->refs, m->nrefs, name, &found);
    if (!new_id && !found)
        return MLOPS_ENOTFOUND;
    if (!new_id && !expected) {
        /* unconditional delete */
    } else if (expected ? !found || memcmp(m->refs[i].id.id, expected->id, MLOPS_OID_RAWSZ) != 0 : found) {
        return MLOPS_ECONFLICT;
    }
    if (!new_id) {
        mlops__free(m->refs[i].name);
        memmove(m->refs + i, m->refs + i + 1, (m->nrefs - i - 1) * sizeof *m->refs);
        m->nrefs--;
        return 0;
    }
    if (found) {
        m->refs[i].id = *new_id;
        return 0;
    }
    MLOPS__TRY(name_conflict(m, name));
    MLOPS__TRY(reserve((void **)&m->refs, m->nrefs, &m->caprefs, sizeof *m->refs));
    char *copy = mlops__strdup(name);
    if (!copy)
        return mlops__error_oom();
    memmove(m->refs + i + 1, m->refs + i, (m->nrefs - i) * sizeof *m->refs);
    memset(&m->refs[i], 0, sizeof m->refs[i]);
    m->refs[i].name = copy;
    m->refs[i].id = *new_id;
    m->nrefs++;
    return 0;
}

static int mem_ref_cas(mlops_backend *b, const char *name, const mlops_oid *expected, const mlops_oid *new_id)
{
    mem_backend *m = MB(b);
    pthread_mutex_lock(&m->lock);
    int rc = ref_cas_locked(m, name, expected, new_id);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* Copies the names of v starting with prefix, then calls cb unlocked. */
static int foreach_named(mem_backend *m, mem_named *const *v, const size_t *n, const char *prefix,
                         mlops_backend_name_cb cb, void *payload)
{
    size_t plen = strlen(prefix), count = 0;
    pthread_mutex_lock(&m->lock);
    char **names = mlops__calloc(*n ? *n : 1, sizeof *names);
    int rc = names ? 0 : mlops__error_oom();
    for (size_t i = 0; rc == 0 && i < *n; i++) {
        if (strncmp((*v)[i].name, prefix, plen) != 0)
            continue;
        if (!(names[count] = mlops__strdup((*v)[i].name)))
            rc = mlops__error_oom();
        else
            count++;
    }
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < count; i++) {
        if (rc == 0)
            rc = cb(names[i], payload);
        mlops__free(names[i]);
    }
    mlops__free(names);
    return rc;
}

static int mem_ref_foreach(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload)
{
    mem_backend *m = MB(b);
    return foreach_named(m, &m->refs, &m->nrefs, prefix, cb, payload);
}

static int mem_log_append(mlops_backend *b, const char *log, const void *data, size_t len)
{
    mem_backend *m = MB(b);
    int found, rc = 0;
    pthread_mutex_lock(&m->lock);
    size_t i = named_pos(m->logs, m->nlogs, log, &found);
    if (!found && (rc = reserve((void **)&m->logs, m->nlogs, &m->caplogs, sizeof *m->logs)) == 0) {
        char *copy = mlops__strdup(log);
        if (!copy) {
            rc = mlops__error_oom();
        } else {
            memmove(m->logs + i + 1, m->logs + i, (m->nlogs - i) * sizeof *m->logs);
            memset(&m->logs[i], 0, sizeof m->logs[i]);
            m->logs[i].name = copy;
            m->nlogs++;
        }
    }
    if (rc == 0)
        rc = mlops__buf_put(&m->logs[i].log, data, len);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_nop_log(mlops_backend *b, const char *log)
{
    (void)b;
    (void)log;
    return 0;
}

static int mem_log_segments(mlops_backend *b, const char *log, mlops_backend_name_cb cb, void *payload)
{
    mem_backend *m = MB(b);
    int found;
    pthread_mutex_lock(&m->lock);
    named_pos(m->logs, m->nlogs, log, &found);
    pthread_mutex_unlock(&m->lock);
    return found ? cb("0", payload) : MLOPS_ENOTFOUND;
}

static int mem_log_read(mlops_backend *b, const char *log, const char *segment, uint64_t offset, void *buf,
                        size_t cap, size_t *out_n)
{
    mem_backend *m = MB(b);
    int found;
    (void)segment;
    *out_n = 0;
    pthread_mutex_lock(&m->lock);
    size_t i = named_pos(m->logs, m->nlogs, log, &found);
    if (found && offset < m->logs[i].log.len) {
        size_t avail = m->logs[i].log.len - (size_t)offset;
        *out_n = avail < cap ? avail : cap;
        memcpy(buf, m->logs[i].log.ptr + offset, *out_n);
    }
    pthread_mutex_unlock(&m->lock);
    return found ? 0 : MLOPS_ENOTFOUND;
}

static int mem_log_foreach(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload)
{
    mem_backend *m = MB(b);
    return foreach_named(m, &m->logs, &m->nlogs, prefix, cb, payload);
}

static int mem_sync(mlops_backend *b)
{
    (void)b;
    return 0;
}

static void mem_free(mlops_backend *b)
{
    mem_backend *m = MB(b);
    if (!m)
        return;
    for (size_t i = 0; i < m->nblobs; i++)
        mlops__free(m->blobs[i].data);
    for (size_t i = 0; i < m->nrefs; i++)
        mlops__free(m->refs[i].name);
    for (size_t i = 0; i < m->nlogs; i++) {
        mlops__free(m->logs[i].name);
        mlops__buf_dispose(&m->logs[i].log);
    }
    mlops__free(m->blobs);
    mlops__free(m->refs);
    mlops__free(m->logs);
    pthread_mutex_destroy(&m->lock);
    mlops__free(m);
    b->payload = NULL;
}

int mlops__backend_memory_new(mlops_backend *out)
{
    mem_backend *m = mlops__calloc(1, sizeof *m);
    if (!m)
        return mlops__error_oom();
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        mlops__free(m);
        return mlops__error_set(MLOPS_ERROR, "cannot create a mutex");
    }
    memset(out, 0, sizeof *out);
    out->version = MLOPS_BACKEND_VERSION;
    out->payload = m;
    out->obj_exists = mem_obj_exists;
    out->obj_stat = mem_obj_stat;
    out->obj_write_open = mem_obj_write_open;
    out->obj_write = mem_obj_write;
    out->obj_write_commit = mem_obj_write_commit;
    out->obj_write_abort = mem_obj_write_abort;
    out->obj_read_open = mem_obj_read_open;
    out->obj_read = mem_obj_read;
    out->obj_read_close = mem_obj_read_close;
    out->obj_delete = mem_obj_delete;
    out->obj_foreach = mem_obj_foreach;
    out->ref_read = mem_ref_read;
    out->ref_cas = mem_ref_cas;
    out->ref_foreach = mem_ref_foreach;
    out->log_append = mem_log_append;
    out->log_sync = mem_nop_log;
    out->log_segments = mem_log_segments;
    out->log_read = mem_log_read;
    out->log_foreach = mem_log_foreach;
    out->sync = mem_sync;
    out->free = mem_free;
    return 0;
}
