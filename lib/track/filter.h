/*
 * Internal: MLflow's search_runs filter and order_by grammar (search.c uses
 * it; tests call it directly). docs/EXPORT-FORMATS.md §3 has the facts this
 * follows; where we differ from MLflow it is said in filter.c.
 */
#ifndef MLOPS_LIB_TRACK_FILTER_H
#define MLOPS_LIB_TRACK_FILTER_H

#include <stddef.h>

#include "mlops/track.h"

/* What a clause or an order_by entry looks at. */
typedef enum mlops__fkind {
    MLOPS__F_METRIC,
    MLOPS__F_PARAM,
    MLOPS__F_TAG,
    MLOPS__F_ATTR
} mlops__fkind;

/* The searchable run attributes (MLflow's RunInfo properties we store). */
typedef enum mlops__fattr {
    MLOPS__A_RUN_ID,
    MLOPS__A_RUN_NAME,
    MLOPS__A_STATUS,
    MLOPS__A_USER_ID,
    MLOPS__A_START_TIME, /* numeric from here on */
    MLOPS__A_END_TIME
} mlops__fattr;

typedef enum mlops__fop {
    MLOPS__OP_EQ,
    MLOPS__OP_NE,
    MLOPS__OP_LT,
    MLOPS__OP_LE,
    MLOPS__OP_GT,
    MLOPS__OP_GE,
    MLOPS__OP_LIKE,
    MLOPS__OP_ILIKE,
    MLOPS__OP_IN,
    MLOPS__OP_NOT_IN
} mlops__fop;

typedef struct mlops__clause {
    mlops__fkind kind;
    mlops__fattr attr; /* kind == ATTR */
    char *key;         /* metric/param/tag key */
    mlops__fop op;
    double num;        /* metrics and numeric attributes */
    char *str;         /* string comparisons */
    char **list;       /* IN / NOT IN */
    size_t nlist;
} mlops__clause;

/* AND-ed clauses; zero clauses match every run. */
typedef struct mlops__filter {
    mlops__clause *clauses;
    size_t n;
} mlops__filter;

/* Parses filter (NULL or blank: match all). MLOPS_EINVALID with a message
 * naming the offending token and its byte offset; MLOPS_ENOMEM. */
int mlops__filter_parse(mlops__filter *out, const char *filter);
void mlops__filter_dispose(mlops__filter *f);
/* 1 if info satisfies every clause, else 0. */
int mlops__filter_match(const mlops__filter *f, const mlops_run_info *info);

/* The value a clause or order_by entry looks at. Numbers: 1 and *out set,
 * or 0 if the run lacks it (a metric never logged, end_time of a run not
 * ended). Strings: NULL if the run lacks it. */
int mlops__run_numeric(double *out, const mlops_run_info *info, mlops__fkind kind, mlops__fattr attr,
                       const char *key);
const char *mlops__run_string(const mlops_run_info *info, mlops__fkind kind, mlops__fattr attr, const char *key);
/* Metrics, start_time and end_time compare as numbers, the rest as strings. */
int mlops__is_numeric(mlops__fkind kind, mlops__fattr attr);

/* SQL LIKE: '%' any run, '_' one character (UTF-8 aware), no escapes.
 * nocase: ASCII case folding (ILIKE). */
int mlops__like(const char *text, const char *pattern, int nocase);

/* One order_by entry. */
typedef struct mlops__order {
    mlops__fkind kind;
    mlops__fattr attr;
    char *key;
    int descending;
} mlops__order;

typedef struct mlops__order_list {
    mlops__order *keys;
    size_t n;
} mlops__order_list;

/* Parses "<identifier> [ASC|DESC]" entries. MLOPS_EINVALID naming the
 * entry and the bad token. */
int mlops__order_parse(mlops__order_list *out, const char *const *order_by, size_t n);
void mlops__order_dispose(mlops__order_list *o);
/* <0, 0, >0: a sorts before, with, after b. Entries in turn, then MLflow's
 * default order (start_time DESC, run_id ASC). Missing values sort last in
 * both directions, NaN metrics just before them. */
int mlops__order_compare(const mlops__order_list *o, const mlops_run_info *a, const mlops_run_info *b);

#endif
