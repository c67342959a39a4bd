/*
 * The pooled walk over sorted samples. Why a walk rather than scipy's
 * rankdata on the concatenation: each sample is already sorted once (radix
 * sort, sample.c), and every rank statistic here only needs, per run of
 * equal values, how many come from each sample and how many lie below; a
 * k-way merge gives exactly that in O(N k) comparisons for k samples
 * (k = 2 for the two-sample tests), without sorting the pooled array
 * again or keeping a rank per value.
 */
#include "ranks.h"

void mlops__drift_pool_init(mlops__drift_pool *p, const mlops__drift_sample *s, size_t k, size_t *first,
                            size_t *count)
{
    p->s = s;
    p->k = k;
    p->first = first;
    p->count = count;
    p->value = NAN;
    p->below = 0;
    p->run = 0;
    for (size_t i = 0; i < k; i++)
        first[i] = count[i] = 0;
}

int mlops__drift_pool_next(mlops__drift_pool *p)
{
    int any = 0;
    double v = 0;
    p->below += p->run;
    for (size_t i = 0; i < p->k; i++) {
        p->first[i] += p->count[i];
        p->count[i] = 0;
        if (p->first[i] < p->s[i].n) {
            double x = p->s[i].v[p->first[i]];
            if (!any || x < v)
                v = x;
            any = 1;
        }
    }
    if (!any) {
        p->run = 0;
        return 0;
    }
    size_t run = 0;
    for (size_t i = 0; i < p->k; i++) {
        const double *x = p->s[i].v;
        size_t j = p->first[i], n = p->s[i].n;
        while (j < n && x[j] == v)
            j++;
        p->count[i] = j - p->first[i];
        run += p->count[i];
    }
    p->value = v;
    p->run = run;
    return 1;
}

double mlops__drift_tie_term(size_t t)
{
    /* t^3 fits 64 bits up to t = 2,642,245; numpy sums int64 terms, so
     * keep them exact as long as a 64-bit integer can. */
    if (t < 2000000) {
        uint64_t u = (uint64_t)t;
        return (double)(u * u * u - u);
    }
    double d = (double)t;
    return d * d * d - d;
}
