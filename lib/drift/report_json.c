/*
 * The report as JSON (docs/FORMAT.md, "Drift reports"): one object, keys
 * in a fixed order, numbers with 17 significant digits so they read back
 * as the same doubles, null for NaN and infinities (JSON has neither).
 * Column names are valid UTF-8 (checked by mlops_drift_report_run) and
 * escaped as RFC 8259 requires.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "report_internal.h"

static int put_string(mlops__buf *b, const char *s)
{
    MLOPS__TRY(mlops__buf_puts(b, "\""));
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        int rc;
        if (*c == '"' || *c == '\\')
            rc = mlops__buf_printf(b, "\\%c", *c);
        else if (*c < 0x20)
            rc = mlops__buf_printf(b, "\\u%04x", *c);
        else
            rc = mlops__buf_put(b, c, 1);
        MLOPS__TRY(rc);
    }
    return mlops__buf_puts(b, "\"");
}

static int put_number(mlops__buf *b, double v)
{
    if (isnan(v) || isinf(v))
        return mlops__buf_puts(b, "null");
    if (v == 0)
        return mlops__buf_puts(b, signbit(v) ? "-0.0" : "0.0");
    return mlops__buf_printf(b, "%.17g", v);
}

static int put_column(mlops__buf *b, const mlops_drift_column_result *c)
{
    MLOPS__TRY(mlops__buf_puts(b, "{\"name\":"));
    MLOPS__TRY(put_string(b, c->name));
    MLOPS__TRY(mlops__buf_printf(b, ",\"type\":\"%s\",\"test\":\"%s\",\"statistic\":",
                                 c->type == MLOPS_DRIFT_CATEGORICAL ? "categorical" : "numeric",
                                 mlops_drift_stattest_name(c->test)));
    MLOPS__TRY(put_number(b, c->statistic));
    MLOPS__TRY(mlops__buf_puts(b, ",\"pvalue\":"));
    MLOPS__TRY(put_number(b, c->pvalue));
    MLOPS__TRY(mlops__buf_puts(b, ",\"pvalue_corrected\":"));
    MLOPS__TRY(put_number(b, c->pvalue_corrected));
    MLOPS__TRY(mlops__buf_puts(b, ",\"threshold\":"));
    MLOPS__TRY(put_number(b, c->threshold));
    return mlops__buf_printf(b,
                             ",\"drifted\":%s,\"n_reference\":%zu,\"n_current\":%zu,\"missing_reference\":%zu,"
                             "\"missing_current\":%zu,\"distinct\":%zu}",
                             c->drifted ? "true" : "false", c->n_reference, c->n_current, c->missing_reference,
                             c->missing_current, c->distinct);
}

static int put_report(mlops__buf *b, const mlops_drift_report *r)
{
    MLOPS__TRY(mlops__buf_printf(b, "{\"format\":\"mlops.drift.report\",\"version\":1,\"dataset_drift\":%s,"
                                    "\"ncolumns\":%zu,\"ndrifted\":%zu,\"share_drifted\":",
                                 r->dataset_drift ? "true" : "false", r->ncolumns, r->ndrifted));
    MLOPS__TRY(put_number(b, r->share_drifted));
    MLOPS__TRY(mlops__buf_puts(b, ",\"drift_share\":"));
    MLOPS__TRY(put_number(b, r->drift_share));
    MLOPS__TRY(mlops__buf_printf(b, ",\"correction\":\"%s\",\"columns\":[",
                                 mlops__drift_correction_name(r->correction)));
    for (size_t i = 0; i < r->ncolumns; i++) {
        if (i)
            MLOPS__TRY(mlops__buf_puts(b, ","));
        MLOPS__TRY(put_column(b, &r->columns[i]));
    }
    return mlops__buf_puts(b, "]}");
}

int mlops_drift_report_json(char **out, size_t *len, const mlops_drift_report *r)
{
    if (!out || !r)
        return mlops__error_set(MLOPS_EINVALID, "report_json: NULL argument");
    mlops__buf b = MLOPS__BUF_INIT;
    int rc = put_report(&b, r);
    if (rc < 0) {
        mlops__buf_dispose(&b);
        return rc;
    }
    size_t n = 0;
    *out = mlops__buf_detach(&b, &n);
    if (!*out)
        return mlops__error_oom();
    if (len)
        *len = n;
    return 0;
}

int mlops_drift_report_save(mlops_oid *out, mlops_store *s, const mlops_drift_report *r)
{
    if (!out || !s || !r)
        return mlops__error_set(MLOPS_EINVALID, "report_save: NULL argument");
    char *json = NULL;
    size_t n = 0;
    MLOPS__TRY(mlops_drift_report_json(&json, &n, r));
    int rc = mlops_object_put(out, s, json, n);
    mlops__free(json);
    return rc;
}
