/*
 * A run's metric points as CSV: "key,step,timestamp,value", keys in sorted
 * order, each key's points in history order. Values use %.17g, enough
 * digits for every double to read back exactly, with C's spellings of the
 * special values (nan, -nan, inf, -inf), which pandas and Python's
 * float() both accept. Lines end in "\n" (what Unix tools expect; RFC 4180
 * readers accept it too).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/export_util.h"
#include "track_internal.h"

/* RFC 4180: a field holding a comma, quote or line break is quoted, with
 * quotes doubled. Validated keys never need it; stored data is not trusted. */
static int put_field(mlops__buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return mlops__buf_puts(b, s);
    MLOPS__TRY(mlops__buf_put(b, "\"", 1));
    for (; *s; s++) {
        if (*s == '"')
            MLOPS__TRY(mlops__buf_put(b, "\"", 1));
        MLOPS__TRY(mlops__buf_put(b, s, 1));
    }
    return mlops__buf_put(b, "\"", 1);
}

static int write_key(mlops__export_file *f, mlops_store *store, const char *run_id, const char *key)
{
    mlops_metric_history h;
    memset(&h, 0, sizeof h);
    int rc = mlops_metric_history_get(&h, store, run_id, key, NULL);
    for (size_t i = 0; rc == 0 && i < h.n; i++) {
        rc = put_field(&f->buf, key);
        if (rc == 0)
            rc = mlops__buf_printf(&f->buf, ",%" PRId64 ",%" PRId64 ",%.17g\n", h.steps[i], h.timestamps[i],
                                   h.values[i]);
        if (rc == 0)
            rc = mlops__export_file_maybe_drain(f);
    }
    mlops_metric_history_free(&h);
    return rc;
}

/* The directory holding path ("." for a bare name), for the temp file. */
static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return mlops__strdup(".");
    return mlops__strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

int mlops_export_csv(mlops_store *store, const char *run_id, const char *dest)
{
    if (!store || !run_id || !dest || !*dest)
        return mlops__error_set(MLOPS_EINVALID, "export_csv: store, run id and destination are required");
    char **keys = NULL;
    size_t nkeys = 0;
    int rc = mlops_metric_keys(&keys, &nkeys, store, run_id);
    if (rc < 0)
        return rc;
    char *dir = parent_dir(dest);
    mlops__export_file f;
    if (!dir) {
        rc = mlops__error_oom();
        goto done;
    }
    rc = mlops__export_file_open(&f, dir);
    if (rc < 0)
        goto done;
    rc = mlops__buf_puts(&f.buf, "key,step,timestamp,value\n");
    for (size_t k = 0; rc == 0 && k < nkeys; k++)
        rc = write_key(&f, store, run_id, keys[k]);
    if (rc == 0)
        rc = mlops__export_file_publish(&f, dest);
    else
        mlops__export_file_abort(&f);
done:
    mlops__free(dir);
    mlops_string_list_free(keys, nkeys);
    return rc;
}
