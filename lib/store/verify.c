/* verify: re-hash every object, check refs point at objects, read logs. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "log_internal.h"
#include "object_io.h"
#include "object_list.h"

#define VERIFY_BLOCK ((size_t)1 << 20)

/* Reads the object to its end; the reader checks size and hash. */
static int rehash(mlops_store *s, const mlops_oid *id, char *buf, uint64_t *bytes)
{
    mlops_object_reader *r = NULL;
    MLOPS__TRY(mlops_object_reader_open(&r, s, id));
    int rc;
    size_t n = 0;
    while ((rc = mlops_object_reader_read(&n, r, buf, VERIFY_BLOCK)) == 0 && n > 0)
        *bytes += n;
    mlops_object_reader_free(r);
    return rc;
}

static int add_corrupt(mlops_verify_report *rep, const mlops_oid *id)
{
    mlops_oid *p = mlops__realloc(rep->corrupt, (rep->ncorrupt + 1) * sizeof *p);
    if (!p)
        return mlops__error_oom();
    rep->corrupt = p;
    rep->corrupt[rep->ncorrupt++] = *id;
    return 0;
}

static int check_objects(mlops_verify_report *rep, mlops_store *s, mlops_progress_cb progress, void *payload)
{
    mlops__object_list l;
    MLOPS__TRY(mlops__object_list_load(&l, s));
    char *buf = mlops__malloc(VERIFY_BLOCK);
    int rc = buf ? 0 : mlops__error_oom();
    for (size_t i = 0; rc == 0 && i < l.len; i++) {
        int r = rehash(s, &l.items[i].id, buf, &rep->bytes);
        if (r == MLOPS_ECORRUPT || r == MLOPS_EUNSUPPORTED)
            rc = add_corrupt(rep, &l.items[i].id);
        else if (r < 0 && r != MLOPS_ENOTFOUND) /* ENOTFOUND: deleted meanwhile */
            rc = r;
        rep->objects++;
        if (rc == 0 && progress && progress(rep->objects, l.len, payload) != 0)
            rc = mlops__error_set(MLOPS_EUSER, "verify stopped by the progress callback");
    }
    mlops__free(buf);
    mlops__object_list_dispose(&l);
    return rc;
}

typedef struct ref_check {
    mlops_store *s;
    mlops_verify_report *rep;
    int rc;
    char message[256]; /* of rc: the walk's own EUSER would overwrite it */
} ref_check;

static int stop_walk(ref_check *c, int rc)
{
    c->rc = rc;
    snprintf(c->message, sizeof c->message, "%s", mlops_error_last());
    return 1;
}

/* The walk returned; report the callback's failure rather than EUSER. */
static int walk_result(ref_check *c, int rc)
{
    if (c->rc)
        return mlops__error_set(c->rc, "%s", c->message);
    return rc;
}

static int add_name(char ***list, size_t *n, const char *name)
{
    char **p = mlops__realloc(*list, (*n + 1) * sizeof *p);
    if (!p)
        return mlops__error_oom();
    *list = p;
    if (!(p[*n] = mlops__strdup(name)))
        return mlops__error_oom();
    (*n)++;
    return 0;
}

/* Walks ref names itself (not mlops_ref_foreach, which stops at an
 * unreadable ref) so that one bad ref is reported, not fatal. */
static int check_ref(const char *name, void *payload)
{
    ref_check *c = payload;
    mlops_oid id;
    c->rep->refs++;
    int rc = c->s->be.ref_read(&c->s->be, name, &id);
    if (rc == MLOPS_ENOTFOUND) /* deleted since the listing */
        return 0;
    if (rc == MLOPS_ECORRUPT)
        rc = add_name(&c->rep->bad_refs, &c->rep->nbad_refs, name);
    else if (rc == 0 && (rc = c->s->be.obj_exists(&c->s->be, &id)) == 0)
        rc = add_name(&c->rep->dangling, &c->rep->ndangling, name);
    return rc < 0 ? stop_walk(c, rc) : 0;
}

static int check_log(const char *name, void *payload)
{
    ref_check *c = payload;
    mlops_log_iterator *it = NULL;
    int rc = mlops_log_iterator_new(&it, c->s, name);
    const void *rec;
    size_t len;
    while (rc == 0)
        rc = mlops_log_iterator_next(&rec, &len, it);
    if (rc == MLOPS_ITEROVER)
        rc = 0;
    if (it)
        c->rep->log_torn += mlops__log_iterator_torn(it);
    mlops_log_iterator_free(it);
    c->rep->logs++;
    return rc < 0 ? stop_walk(c, rc) : 0;
}

int mlops_store_verify(mlops_verify_report *out, mlops_store *s, mlops_progress_cb progress, void *payload)
{
    if (!out || !s)
        return mlops__error_set(MLOPS_EINVALID, "store_verify: NULL argument");
    memset(out, 0, sizeof *out);
    int rc = check_objects(out, s, progress, payload);
    ref_check c = { s, out, 0, "" };
    if (rc == 0)
        rc = walk_result(&c, s->be.ref_foreach(&s->be, "", check_ref, &c));
    if (rc == 0)
        rc = walk_result(&c, mlops_log_list(s, NULL, check_log, &c));
    if (rc < 0)
        mlops_verify_report_free(out);
    return rc;
}

void mlops_verify_report_free(mlops_verify_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->ndangling; i++)
        mlops__free(rep->dangling[i]);
    for (size_t i = 0; i < rep->nbad_refs; i++)
        mlops__free(rep->bad_refs[i]);
    mlops__free(rep->bad_refs);
    mlops__free(rep->dangling);
    mlops__free(rep->corrupt);
    memset(rep, 0, sizeof *rep);
}
