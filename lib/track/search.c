/*
 * mlops_run_search: every run record is read, kept if it is in one of the
 * experiments, alive (or include_deleted) and matches the filter; the
 * survivors are sorted and one page is returned.
 *
 * Choices:
 *  - nexperiments == 0 searches every experiment (a library caller has no
 *    UI default experiment to fall back on, and "all" is what export does).
 *    An experiment id that does not exist simply contributes no runs.
 *  - The page token is the decimal offset of the next page in the sorted
 *    result (MLflow's is base64 JSON of the same offset; nothing outside
 *    this file reads it). A token that is not a decimal number is
 *    MLOPS_EINVALID; an offset past the end gives an empty last page, as
 *    runs may have been deleted between two calls.
 *  - max_results above 50000 is MLOPS_EINVALID, MLflow's limit.
 *  - A run removed between listing the ids and reading its record is
 *    skipped, not an error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/options.h"
#include "track/filter.h"
#include "track/track_internal.h"

#define SEARCH_DEFAULT_RESULTS 1000
#define SEARCH_MAX_RESULTS 50000

int mlops_search_options_init(mlops_search_options *opts, unsigned int version)
{
    static const mlops_search_options defaults = MLOPS_SEARCH_OPTIONS_INIT;
    return mlops__options_init(opts, &defaults, sizeof defaults, version, MLOPS_SEARCH_OPTIONS_VERSION, "search");
}

/* ---- ordering --------------------------------------------------------- */

/* 0: a value, 1: NaN, 2: missing. Ranks order before the direction is
 * applied, so NaN and missing come last both ways (MLflow's
 * _get_value_for_sort). */
static int rank_numeric(double *v, const mlops_run_info *r, const mlops__order *o)
{
    if (!mlops__run_numeric(v, r, o->kind, o->attr, o->key))
        return 2;
    return isnan(*v) ? 1 : 0;
}

static int compare_one(const mlops__order *o, const mlops_run_info *a, const mlops_run_info *b)
{
    int c;
    if (mlops__is_numeric(o->kind, o->attr)) {
        double va = 0, vb = 0;
        int ra = rank_numeric(&va, a, o), rb = rank_numeric(&vb, b, o);
        if (ra != rb)
            return ra - rb;
        if (ra)
            return 0;
        c = (va > vb) - (va < vb);
    } else {
        const char *sa = mlops__run_string(a, o->kind, o->attr, o->key);
        const char *sb = mlops__run_string(b, o->kind, o->attr, o->key);
        if (!sa || !sb)
            return (!sa) - (!sb);
        c = strcmp(sa, sb);
    }
    return o->descending ? -c : c;
}

int mlops__order_compare(const mlops__order_list *o, const mlops_run_info *a, const mlops_run_info *b)
{
    for (size_t i = 0; o && i < o->n; i++) {
        int c = compare_one(&o->keys[i], a, b);
        if (c)
            return c;
    }
    /* MLflow's default order, which also breaks every tie */
    if (a->start_time != b->start_time)
        return a->start_time > b->start_time ? -1 : 1;
    return strcmp(a->run_id, b->run_id);
}

/* Merge sort: qsort has no context argument in C11 and qsort_r differs
 * between glibc and BSD. */
static void sort_runs(mlops_run_info **v, mlops_run_info **tmp, size_t n, const mlops__order_list *o)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_runs(v, tmp, h, o);
    sort_runs(v + h, tmp, n - h, o);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = mlops__order_compare(o, v[j], v[i]) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* ---- search ----------------------------------------------------------- */

static int parse_page_token(size_t *out, const char *token)
{
    *out = 0;
    if (!token)
        return 0;
    size_t n = strlen(token);
    int ok = n > 0 && n <= 19;
    for (size_t i = 0; ok && i < n; i++)
        ok = token[i] >= '0' && token[i] <= '9';
    if (!ok)
        return mlops__error_set(MLOPS_EINVALID, "search: invalid page token '%.40s'", token);
    unsigned long long v = strtoull(token, NULL, 10);
    *out = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
    return 0;
}

static int in_experiments(const mlops_run_info *info, const char *const *ids, size_t n)
{
    if (!n)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(info->experiment_id, ids[i]) == 0)
            return 1;
    return 0;
}

typedef struct search_state {
    char **ids;
    size_t nids;
    mlops_run_info **runs;
    size_t count, cap;
    mlops__filter filter;
    mlops__order_list order;
} search_state;

static void state_dispose(search_state *st)
{
    for (size_t i = 0; i < st->count; i++)
        mlops_run_info_free(st->runs[i]);
    mlops__free(st->runs);
    if (st->ids)
        mlops_string_list_free(st->ids, st->nids);
    mlops__filter_dispose(&st->filter);
    mlops__order_dispose(&st->order);
}

/* Reads every record and keeps the matching ones in st->runs. */
static int collect(search_state *st, mlops_store *store, const char *const *experiment_ids, size_t nexperiments,
                   int include_deleted)
{
    MLOPS__TRY(mlops__run_ids(&st->ids, &st->nids, store));
    for (size_t i = 0; i < st->nids; i++) {
        mlops_run_info *info = NULL;
        mlops_oid ref;
        int rc = mlops__run_record_read(&info, &ref, store, st->ids[i]);
        if (rc == MLOPS_ENOTFOUND)
            continue;
        if (rc < 0)
            return rc;
        if (!in_experiments(info, experiment_ids, nexperiments) ||
            (info->lifecycle == MLOPS_LIFECYCLE_DELETED && !include_deleted) ||
            !mlops__filter_match(&st->filter, info)) {
            mlops_run_info_free(info);
            continue;
        }
        if (st->count == st->cap) {
            size_t ncap = st->cap ? st->cap * 2 : 64;
            mlops_run_info **nr = mlops__realloc(st->runs, ncap * sizeof *nr);
            if (!nr) {
                mlops_run_info_free(info);
                return mlops__error_oom();
            }
            st->runs = nr;
            st->cap = ncap;
        }
        st->runs[st->count++] = info;
    }
    return 0;
}

/* Keeps runs[offset, offset + max) in out, frees the rest. */
static int take_page(mlops_run_list *out, search_state *st, size_t offset, size_t max)
{
    size_t start = offset < st->count ? offset : st->count;
    size_t end = st->count - start > max ? start + max : st->count;
    char *token = NULL;
    if (end < st->count) {
        char buf[32];
        snprintf(buf, sizeof buf, "%zu", end);
        if (!(token = mlops__strdup(buf)))
            return mlops__error_oom();
    }
    for (size_t i = 0; i < st->count; i++)
        if (i < start || i >= end)
            mlops_run_info_free(st->runs[i]);
    if (end > start) /* st->runs is NULL when nothing matched */
        memmove(st->runs, st->runs + start, (end - start) * sizeof *st->runs);
    out->runs = st->runs;
    out->count = end - start;
    out->next_page_token = token;
    st->runs = NULL;
    st->count = st->cap = 0;
    return 0;
}

int mlops_run_search(mlops_run_list *out, mlops_store *store, const char *const *experiment_ids,
                     size_t nexperiments, const mlops_search_options *opts)
{
    static const mlops_search_options defaults = MLOPS_SEARCH_OPTIONS_INIT;
    search_state st;
    size_t offset, max;
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !store || (nexperiments && !experiment_ids))
        return mlops__error_set(MLOPS_EINVALID, "search: NULL argument");
    for (size_t i = 0; i < nexperiments; i++)
        if (!experiment_ids[i])
            return mlops__error_set(MLOPS_EINVALID, "search: experiment id %zu is NULL", i);
    if (!opts)
        opts = &defaults;
    MLOPS__TRY(mlops__options_version(opts->version, MLOPS_SEARCH_OPTIONS_VERSION, "search"));
    max = opts->max_results ? opts->max_results : SEARCH_DEFAULT_RESULTS;
    if (max > SEARCH_MAX_RESULTS)
        return mlops__error_set(MLOPS_EINVALID, "search: max_results %zu is over the limit of %d", max,
                                SEARCH_MAX_RESULTS);
    MLOPS__TRY(parse_page_token(&offset, opts->page_token));

    memset(&st, 0, sizeof st);
    /* parse everything before reading any record: a typo fails fast */
    rc = mlops__filter_parse(&st.filter, opts->filter);
    if (rc == 0)
        rc = mlops__order_parse(&st.order, opts->order_by, opts->norder_by);
    if (rc == 0)
        rc = collect(&st, store, experiment_ids, nexperiments, opts->include_deleted);
    if (rc == 0 && st.count > 1) {
        mlops_run_info **tmp = mlops__malloc(st.count * sizeof *tmp);
        if (!tmp)
            rc = mlops__error_oom();
        else {
            sort_runs(st.runs, tmp, st.count, &st.order);
            mlops__free(tmp);
        }
    }
    if (rc == 0)
        rc = take_page(out, &st, offset, max);
    state_dispose(&st);
    return rc;
}

void mlops_run_list_free(mlops_run_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        mlops_run_info_free(list->runs[i]);
    mlops__free(list->runs);
    mlops__free(list->next_page_token);
    memset(list, 0, sizeof *list);
}
