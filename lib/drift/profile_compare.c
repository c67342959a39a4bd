/*
 * Drift between two profiles, without the raw data (drift.h,
 * mlops_drift_profile_compare).
 *
 * KS and its error bound. Write est_i(x) for sketch i's weight of items
 * <= x and true_i(x) for the number of its values <= x, n_i its count.
 * sketch.h proves est_i(x) - true_i(x) in [-minus_i, plus_i] for every x
 * (minus_i, plus_i its two error sums). With C_i = est_i / n_i and F_i =
 * true_i / n_i (the empirical CDFs),
 *     (C_1 - C_2)(x) - (F_1 - F_2)(x) in [-(minus_1/n_1 + plus_2/n_2),
 *                                          plus_1/n_1 + minus_2/n_2]
 * for every x, so the suprema of |C_1 - C_2| (the statistic) and of
 * |F_1 - F_2| (the true KS statistic of the data) differ by at most
 *     bound = max(plus_1/n_1 + minus_2/n_2, minus_1/n_1 + plus_2/n_2)
 * (if |f - g| <= b everywhere, |sup|f| - sup|g|| <= b). The bound is at
 * most epsilon_1 + epsilon_2. Both C_i are right-continuous steps that
 * jump only at item values, so the supremum is attained at one of them:
 * one merge walk over the two sorted item lists finds it.
 *
 * PSI, Jensen-Shannon and Hellinger are a few lines each, computed here on
 * shares (the histogram's counts, the sketch's weights per decile bin, or
 * the category counts, each divided by its total): the same definitions
 * as mlops_drift_psi, mlops_drift_jensenshannon and mlops_drift_hellinger.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "profile_internal.h"

#define PSI_EPSILON 1e-4 /* Evidently's, as mlops_drift_psi's default */
#define DECILE_BINS 10

/* PSI, Jensen-Shannon distance (base e) and Hellinger distance between
 * two distributions given as non-negative weights (normalized here);
 * NaN when either has no weight. */
static void distances(mlops_drift_profile_drift *out, const double *ref, const double *cur, size_t k)
{
    double sr = 0, sc = 0;
    for (size_t i = 0; i < k; i++) {
        sr += ref[i];
        sc += cur[i];
    }
    if (!(sr > 0) || !(sc > 0)) {
        out->psi = out->jensenshannon = out->hellinger = NAN;
        return;
    }
    double psi = 0, js = 0, h = 0;
    for (size_t i = 0; i < k; i++) {
        double p = ref[i] / sr, q = cur[i] / sc;
        double pe = p > 0 ? p : PSI_EPSILON, qe = q > 0 ? q : PSI_EPSILON;
        psi += (qe - pe) * log(qe / pe);
        double m = (p + q) / 2;
        if (p > 0)
            js += p * log(p / m);
        if (q > 0)
            js += q * log(q / m);
        double d = sqrt(p) - sqrt(q);
        h += d * d;
    }
    out->psi = psi;
    js /= 2;
    out->jensenshannon = sqrt(js > 0 ? js : 0);
    out->hellinger = sqrt(h / 2);
}

static void ks(mlops_drift_profile_drift *out, const mlops__drift_sketch_view *a, const mlops__drift_sketch_view *b,
               const mlops_drift_profile *ra, const mlops_drift_profile *rb)
{
    double na = (double)ra->count, nb = (double)rb->count, d = 0;
    uint64_t ca = 0, cb = 0;
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        double x = j == b->n || (i < a->n && a->v[i] <= b->v[j]) ? a->v[i] : b->v[j];
        if (i < a->n && a->v[i] == x)
            ca = a->cum[i++];
        if (j < b->n && b->v[j] == x)
            cb = b->cum[j++];
        double g = fabs((double)ca / na - (double)cb / nb);
        d = g > d ? g : d;
    }
    out->ks_statistic = d;
    double e1 = (double)ra->sk.err_plus / na + (double)rb->sk.err_minus / nb;
    double e2 = (double)ra->sk.err_minus / na + (double)rb->sk.err_plus / nb;
    out->ks_error_bound = e1 > e2 ? e1 : e2;
}

/* Shares of 10 bins between the reference's deciles (repeated deciles
 * merged; the outer bins open): (-Inf, d1), [d1, d2), ..., [d_last, +Inf). */
static void decile_shares(double *ref, double *cur, size_t *k, const mlops__drift_sketch_view *a,
                          const mlops__drift_sketch_view *b, const mlops_drift_profile *ra,
                          const mlops_drift_profile *rb)
{
    double d[DECILE_BINS - 1];
    size_t nd = 0;
    for (int i = 1; i < DECILE_BINS; i++) {
        double x = mlops__drift_sketch_view_quantile(a, (double)i / DECILE_BINS * (double)ra->count);
        if (nd == 0 || x > d[nd - 1])
            d[nd++] = x;
    }
    uint64_t pa = 0, pb = 0;
    for (size_t i = 0; i <= nd; i++) {
        uint64_t ea = i < nd ? mlops__drift_sketch_view_rank(a, d[i], 1) : ra->count;
        uint64_t eb = i < nd ? mlops__drift_sketch_view_rank(b, d[i], 1) : rb->count;
        ref[i] = (double)(ea - pa);
        cur[i] = (double)(eb - pb);
        pa = ea;
        pb = eb;
    }
    *k = nd + 1;
}

static int compare_numeric(mlops_drift_profile_drift *out, const mlops_drift_profile *ref,
                           const mlops_drift_profile *cur)
{
    if (ref->nedges != cur->nedges ||
        (ref->nedges && memcmp(ref->edges, cur->edges, ref->nedges * sizeof *ref->edges) != 0))
        return mlops__error_set(MLOPS_EINVALID, "profile_compare: the profiles have different histogram edges");
    mlops__drift_sketch_view a, b;
    MLOPS__TRY(mlops__drift_sketch_view_init(&a, &ref->sk));
    int rc = mlops__drift_sketch_view_init(&b, &cur->sk);
    if (rc < 0) {
        mlops__drift_sketch_view_dispose(&a);
        return rc;
    }
    ks(out, &a, &b, ref, cur);
    if (ref->nedges) {
        size_t k = ref->nedges - 1;
        double *w = mlops__malloc(2 * k * sizeof *w);
        if (!w) {
            rc = mlops__error_oom();
        } else {
            for (size_t i = 0; i < k; i++) {
                w[i] = (double)ref->hist[i];
                w[k + i] = (double)cur->hist[i];
            }
            distances(out, w, w + k, k);
            mlops__free(w);
        }
    } else {
        double r[DECILE_BINS], c[DECILE_BINS];
        size_t k;
        decile_shares(r, c, &k, &a, &b, ref, cur);
        distances(out, r, c, k);
    }
    mlops__drift_sketch_view_dispose(&a);
    mlops__drift_sketch_view_dispose(&b);
    return rc;
}

static int compare_categorical(mlops_drift_profile_drift *out, const mlops_drift_profile *ref,
                               const mlops_drift_profile *cur)
{
    out->ks_statistic = out->ks_error_bound = NAN;
    size_t cap = ref->ncat + cur->ncat;
    double *w = mlops__malloc(2 * cap * sizeof *w);
    if (!w)
        return mlops__error_oom();
    double *r = w, *c = w + cap;
    size_t i = 0, j = 0, k = 0;
    while (i < ref->ncat || j < cur->ncat) {
        if (j == cur->ncat || (i < ref->ncat && ref->codes[i] < cur->codes[j])) {
            r[k] = (double)ref->ccounts[i++];
            c[k++] = 0;
        } else if (i == ref->ncat || cur->codes[j] < ref->codes[i]) {
            r[k] = 0;
            c[k++] = (double)cur->ccounts[j++];
        } else {
            r[k] = (double)ref->ccounts[i++];
            c[k++] = (double)cur->ccounts[j++];
        }
    }
    distances(out, r, c, k);
    mlops__free(w);
    return 0;
}

int mlops_drift_profile_compare(mlops_drift_profile_drift *out, const mlops_drift_profile *reference,
                                const mlops_drift_profile *current)
{
    if (!out || !reference || !current)
        return mlops__error_set(MLOPS_EINVALID, "profile_compare: NULL argument");
    out->ks_statistic = out->ks_error_bound = out->psi = out->jensenshannon = out->hellinger = NAN;
    if (reference->type != current->type)
        return mlops__error_set(MLOPS_EINVALID, "profile_compare: a numeric and a categorical profile");
    if (reference->count == 0 || current->count == 0)
        return mlops__error_set(MLOPS_EINVALID, "profile_compare: the %s profile is empty",
                                reference->count == 0 ? "reference" : "current");
    if (reference->type == MLOPS_DRIFT_NUMERIC)
        return compare_numeric(out, reference, current);
    return compare_categorical(out, reference, current);
}
