/*
 * Which test a report column gets, and when it counts as drifted.
 *
 * The default follows Evidently's rule (evidently/calculations/stattests/
 * registry.py) because it is what teams already read reports with:
 * below ~1000 reference rows, p-value tests are well calibrated and
 * cheap; above, they flag drift for any tiny shift a large sample can
 * detect, so distances with fixed thresholds take over.
 */
#include "report_internal.h"

#include "common/error.h"

#define SMALL_REFERENCE 1000
#define FEW_VALUES 5

mlops_drift_stattest mlops__drift_default_test(mlops_drift_column_type type, size_t n_reference, size_t distinct)
{
    if (n_reference <= SMALL_REFERENCE) {
        if (type == MLOPS_DRIFT_NUMERIC && distinct > FEW_VALUES)
            return MLOPS_DRIFT_TEST_KS;
        return distinct > 2 ? MLOPS_DRIFT_TEST_CHISQUARE : MLOPS_DRIFT_TEST_ZTEST;
    }
    if (type == MLOPS_DRIFT_NUMERIC && distinct > FEW_VALUES)
        return MLOPS_DRIFT_TEST_WASSERSTEIN;
    return MLOPS_DRIFT_TEST_JENSENSHANNON;
}

int mlops__drift_test_is_pvalue(mlops_drift_stattest test)
{
    switch (test) {
    case MLOPS_DRIFT_TEST_KS:
    case MLOPS_DRIFT_TEST_CHISQUARE:
    case MLOPS_DRIFT_TEST_ZTEST:
    case MLOPS_DRIFT_TEST_ANDERSON:
    case MLOPS_DRIFT_TEST_CRAMERVONMISES:
    case MLOPS_DRIFT_TEST_MANNWHITNEY:
        return 1;
    default:
        return 0;
    }
}

int mlops__drift_test_check(mlops_drift_stattest test, mlops_drift_column_type type, const char *column)
{
    if ((unsigned)test > MLOPS_DRIFT_TEST_ENERGY)
        return mlops__error_set(MLOPS_EINVALID, "column '%s': unknown drift test %d", column, (int)test);
    if (type != MLOPS_DRIFT_CATEGORICAL)
        return 0;
    switch (test) {
    case MLOPS_DRIFT_TEST_KS:
    case MLOPS_DRIFT_TEST_WASSERSTEIN:
    case MLOPS_DRIFT_TEST_ANDERSON:
    case MLOPS_DRIFT_TEST_CRAMERVONMISES:
    case MLOPS_DRIFT_TEST_MANNWHITNEY:
    case MLOPS_DRIFT_TEST_ENERGY:
        return mlops__error_set(MLOPS_EINVALID,
                                "column '%s' is categorical: test '%s' needs ordered numeric values", column,
                                mlops_drift_stattest_name(test));
    default:
        return 0;
    }
}

double mlops__drift_threshold(mlops_drift_stattest test, double column_threshold,
                              const mlops_drift_report_options *opts)
{
    if (column_threshold > 0)
        return column_threshold;
    if (mlops__drift_test_is_pvalue(test))
        return opts->pvalue_threshold > 0 ? opts->pvalue_threshold : 0.05;
    return opts->distance_threshold > 0 ? opts->distance_threshold : 0.1;
}
