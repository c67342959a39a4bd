/*
 * Multiple-testing correction of a report's p-values. A report runs one
 * test per column: with 100 columns and no drift at all, about 5 would be
 * flagged at p < 0.05 by chance. Bonferroni bounds the chance of any
 * false flag; Benjamini-Hochberg bounds the expected share of false flags
 * among the flagged columns, and loses less power (statsmodels' fdr_bh
 * adjusted p-values: p_(i) * m / i, made monotone from the largest down).
 */
#include <math.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "report_internal.h"

const char *mlops__drift_correction_name(mlops_drift_correction c)
{
    switch (c) {
    case MLOPS_DRIFT_CORRECTION_NONE:
        return "none";
    case MLOPS_DRIFT_CORRECTION_BONFERRONI:
        return "bonferroni";
    case MLOPS_DRIFT_CORRECTION_BH:
        return "benjamini-hochberg";
    }
    return "?";
}

typedef struct ranked {
    double p;
    size_t at;
} ranked;

static int by_p(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at; /* stable: equal p keep column order */
}

static int benjamini_hochberg(double *p, size_t n, size_t m)
{
    ranked *r = mlops__malloc(m ? m * sizeof *r : 1);
    if (!r)
        return mlops__error_oom();
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(p[i]))
            r[k++] = (ranked){ p[i], i };
    qsort(r, m, sizeof *r, by_p);
    double running = 1.0;
    for (size_t i = m; i-- > 0;) {
        double adj = r[i].p * (double)m / (double)(i + 1);
        if (adj < running)
            running = adj;
        p[r[i].at] = running;
    }
    mlops__free(r);
    return 0;
}

int mlops__drift_correct(double *p, size_t n, mlops_drift_correction correction)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += !isnan(p[i]);
    switch (correction) {
    case MLOPS_DRIFT_CORRECTION_NONE:
        return 0;
    case MLOPS_DRIFT_CORRECTION_BONFERRONI:
        for (size_t i = 0; i < n; i++)
            if (!isnan(p[i]))
                p[i] = fmin(1.0, p[i] * (double)m);
        return 0;
    case MLOPS_DRIFT_CORRECTION_BH:
        return m ? benjamini_hochberg(p, n, m) : 0;
    }
    return mlops__error_set(MLOPS_EINVALID, "unknown multiple-testing correction %d", (int)correction);
}
