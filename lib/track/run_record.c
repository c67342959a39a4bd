/* Run records: structured objects behind refs track/runs/<id>, changed by
 * read-modify-compare-and-swap so concurrent writers never lose updates. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "store/ref_list.h"
#include "record.h"
#include "track_internal.h"

#define RUN_TYPE "track.run"

static void ref_name(char out[64], const char *run_id)
{
    snprintf(out, 64, "track/runs/%s", run_id);
}

int mlops__run_record_read(mlops_run_info **out, mlops_oid *out_ref, mlops_store *s, const char *run_id)
{
    char name[64], what[48];
    MLOPS__TRY(mlops__track_check_run_id(run_id));
    ref_name(name, run_id);
    snprintf(what, sizeof what, "run %s", run_id);
    void *body = NULL;
    size_t len = 0;
    int rc = mlops__record_load(&body, &len, out_ref, s, name, RUN_TYPE, what);
    if (rc == 0)
        rc = mlops__run_info_decode(out, body, len);
    mlops_free(body);
    return rc;
}

int mlops__run_record_write(mlops_store *s, const mlops_run_info *info, const mlops_oid *expected)
{
    mlops__buf b = MLOPS__BUF_INIT;
    mlops_oid *links = NULL;
    int rc = mlops__run_info_encode(&b, info);
    if (rc == 0 && info->nartifacts && !(links = mlops__calloc(info->nartifacts, sizeof *links)))
        rc = mlops__error_oom();
    for (size_t i = 0; rc == 0 && i < info->nartifacts; i++)
        links[i] = info->artifacts[i].id;
    mlops_oid id;
    if (rc == 0)
        rc = mlops_object_put_structured(&id, s, RUN_TYPE, links, info->nartifacts, b.ptr, b.len);
    char name[64];
    ref_name(name, info->run_id);
    if (rc == 0)
        rc = mlops_ref_set(s, name, &id, expected);
    mlops__free(links);
    mlops__buf_dispose(&b);
    return rc;
}

int mlops__run_record_update(mlops_store *s, const char *run_id, mlops__run_edit_fn edit, void *payload)
{
    for (int attempt = 0; attempt < MLOPS__TRACK_RETRIES; attempt++) {
        mlops_run_info *info = NULL;
        mlops_oid cur;
        MLOPS__TRY(mlops__run_record_read(&info, &cur, s, run_id));
        int rc = edit(info, payload);
        if (rc != 0) {
            /* the edit's own answer: 1 is "nothing to change"; its errors
             * (ECONFLICT of a param included) are final, not a lost race */
            mlops_run_info_free(info);
            return rc == 1 ? 0 : rc;
        }
        rc = mlops__run_record_write(s, info, &cur);
        mlops_run_info_free(info);
        if (rc != MLOPS_ECONFLICT)
            return rc;
        /* another writer got in between: read their record and redo */
    }
    return mlops__error_set(MLOPS_ECONFLICT, "run %s: update still conflicting after %d attempts", run_id,
                            MLOPS__TRACK_RETRIES);
}

int mlops__track_ref_ids(char ***out, size_t *count, mlops_store *s, const char *prefix,
                         int (*accept)(const char *id))
{
    mlops__ref_item *items = NULL;
    size_t n = 0;
    MLOPS__TRY(mlops__ref_list(&items, &n, s, prefix, accept));
    char **ids = mlops__calloc(n ? n : 1, sizeof *ids);
    if (!ids) {
        mlops__ref_list_free(items, n);
        return mlops__error_oom();
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = items[i].name; /* moved: same allocator */
        items[i].name = NULL;
    }
    mlops__ref_list_free(items, n);
    *out = ids;
    *count = n;
    return 0;
}

static int is_run_id(const char *id)
{
    size_t n = strlen(id);
    return n == MLOPS_RUN_ID_HEXSZ && strspn(id, "0123456789abcdef") == n;
}

int mlops__run_ids(char ***out, size_t *count, mlops_store *s)
{
    return mlops__track_ref_ids(out, count, s, "track/runs/", is_run_id);
}
