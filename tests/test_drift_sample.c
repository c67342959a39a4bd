/* The drift module's sample handling: NaN dropping and the radix sorts,
 * checked against qsort on random, adversarial and special values. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drift/sample.h"
#include "drift_vec.h"
#include "testutil.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted by us and by qsort: the same values (bit for bit, except that
 * -0.0 and +0.0 may come in either order, as they compare equal). */
static void check_sort(double *v, size_t n)
{
    double *want = tu_xmalloc((n ? n : 1) * sizeof *want);
    memcpy(want, v, n * sizeof *v);
    qsort(want, n, sizeof *want, cmp_double);
    ck_assert_int_eq(mlops__drift_sort(v, n), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(v[i] == want[i] || (isnan(v[i]) && isnan(want[i])), "n=%zu at %zu: %g != %g", n, i, v[i],
                      want[i]);
    free(want);
}

START_TEST(sort_matches_qsort)
{
    static const size_t sizes[] = { 0, 1, 2, 63, 64, 65, 1000, 100000 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        double *v = tv_generate("normal", 1 + s, n, 0.0, 1e3);
        check_sort(v, n);
        free(v);
        v = tv_generate("int", 7 + s, n, -3, 3); /* ties, zeros of both signs */
        for (size_t i = 0; i < n; i++)
            if (v[i] == 0 && (i & 1))
                v[i] = -0.0;
        check_sort(v, n);
        free(v);
    }
    double special[] = { INFINITY, -INFINITY, 0x1p-1074, -0x1p-1074, 1e308, -1e308, 0.0, -0.0, 1, -1,
                         INFINITY, 2.5, -2.5, 0x1.fffffffffffffp1023 };
    size_t ns = sizeof special / sizeof special[0];
    double big[200];
    for (size_t i = 0; i < 200; i++)
        big[i] = special[(i * 5) % ns]; /* 5 is coprime with ns: every value */
    check_sort(special, ns);
    check_sort(big, 200);
    ck_assert(big[0] == -INFINITY && big[199] == INFINITY);
}
END_TEST

START_TEST(sort_codes_matches_qsort)
{
    static const size_t sizes[] = { 0, 1, 5, 64, 100000 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        int64_t *v = tu_xmalloc((n ? n : 1) * sizeof *v), *want = tu_xmalloc((n ? n : 1) * sizeof *v);
        double *u = tv_generate("uniform", 3 + s, n, -1.0, 1.0);
        for (size_t i = 0; i < n; i++)
            v[i] = i % 5 == 0 ? INT64_MIN + (int64_t)i : i % 5 == 1 ? INT64_MAX - (int64_t)i
                                                                  : (int64_t)(u[i] * 1e6);
        memcpy(want, v, n * sizeof *v);
        qsort(want, n, sizeof *want, cmp_i64);
        ck_assert_int_eq(mlops__drift_sort_codes(v, n), 0);
        ck_assert_int_eq(memcmp(v, want, n * sizeof *v), 0);
        free(u);
        free(v);
        free(want);
    }
}
END_TEST

START_TEST(sample_drops_nan)
{
    double x[] = { 3, NAN, -INFINITY, 1, NAN, 2 };
    mlops__drift_sample s;
    ck_assert_int_eq(mlops__drift_sample_init(&s, x, 6, 1, "first sample"), 0);
    ck_assert_uint_eq(s.n, 4);
    ck_assert_uint_eq(s.nan, 2);
    ck_assert(s.v[0] == -INFINITY && s.v[1] == 1 && s.v[2] == 2 && s.v[3] == 3);
    tu_assert_err(mlops__drift_sample_require_finite(&s, "first sample"), MLOPS_EINVALID);
    mlops__drift_sample_dispose(&s);
    ck_assert_int_eq(mlops__drift_sample_init(&s, x, 1, 0, "first sample"), 0);
    ck_assert_int_eq(mlops__drift_sample_require_finite(&s, "first sample"), 0);
    mlops__drift_sample_dispose(&s);

    double only_nan[] = { NAN, NAN };
    tu_assert_err(mlops__drift_sample_init(&s, only_nan, 2, 1, "second sample"), MLOPS_EINVALID);
    tu_assert_err(mlops__drift_sample_init(&s, x, 0, 1, "second sample"), MLOPS_EINVALID);
    tu_assert_err(mlops__drift_sample_init(&s, NULL, 3, 1, "second sample"), MLOPS_EINVALID);
}
END_TEST

/* Two samples at once: large ones sorted on two threads, small ones in
 * turn; either way each sorted and NaN-free, and errors name the sample. */
START_TEST(pair_sorts_both)
{
    static const size_t sizes[] = { 10, 70000, 200000 };
    for (size_t s = 0; s < 3; s++) {
        size_t n = sizes[s];
        double *x = tv_generate("normal", 40 + s, n, 0, 1), *y = tv_generate("uniform", 50 + s, n + 3, -5, 5);
        x[n / 2] = NAN;
        y[0] = NAN;
        y[n] = NAN;
        mlops__drift_sample a, b;
        ck_assert_int_eq(mlops__drift_sample_init_pair(&a, x, n, "first", &b, y, n + 3, "second"), 0);
        ck_assert_uint_eq(a.n, n - 1);
        ck_assert_uint_eq(a.nan, 1);
        ck_assert_uint_eq(b.n, n + 1);
        ck_assert_uint_eq(b.nan, 2);
        for (size_t i = 1; i < a.n; i++)
            ck_assert(a.v[i - 1] <= a.v[i]);
        for (size_t i = 1; i < b.n; i++)
            ck_assert(b.v[i - 1] <= b.v[i]);
        mlops__drift_sample_dispose(&a);
        mlops__drift_sample_dispose(&b);
        for (size_t i = 0; i < n + 3; i++)
            y[i] = NAN;
        tu_assert_err(mlops__drift_sample_init_pair(&a, x, n, "first", &b, y, n + 3, "second"), MLOPS_EINVALID);
        ck_assert_ptr_nonnull(strstr(mlops_error_last(), "second"));
        ck_assert_ptr_null(a.v);
        ck_assert_ptr_null(b.v);
        tu_assert_err(mlops__drift_sample_init_pair(&a, NULL, n, "first", &b, y, n + 3, "second"), MLOPS_EINVALID);
        free(x);
        free(y);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("drift_sample");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sort_matches_qsort);
    tcase_add_test(tc, sort_codes_matches_qsort);
    tcase_add_test(tc, sample_drops_nan);
    tcase_add_test(tc, pair_sorts_both);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
