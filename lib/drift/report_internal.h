/*
 * Internal: the dataset report's pieces (report.c runs the columns):
 * which test a column gets, what its threshold is, the multiple-testing
 * correction and the JSON form.
 */
#ifndef MLOPS_LIB_DRIFT_REPORT_INTERNAL_H
#define MLOPS_LIB_DRIFT_REPORT_INTERNAL_H

#include <stddef.h>

#include "mlops/drift.h"

/* Evidently's default rule (drift.h): by reference size (after dropping
 * missing values), column type and distinct values in both samples. */
mlops_drift_stattest mlops__drift_default_test(mlops_drift_column_type type, size_t n_reference, size_t distinct);
/* 1 for tests whose result is a p-value, 0 for distances. */
int mlops__drift_test_is_pvalue(mlops_drift_stattest test);
/* 0, or MLOPS_EINVALID (message naming the column) when the test makes no
 * sense for the column type: rank and distance-on-values tests need
 * ordered numbers, and category codes are names, not numbers. */
int mlops__drift_test_check(mlops_drift_stattest test, mlops_drift_column_type type, const char *column);
/* The threshold a column's test uses: its own override, else the
 * report's p-value or distance threshold, else 0.05 / 0.1. */
double mlops__drift_threshold(mlops_drift_stattest test, double column_threshold,
                              const mlops_drift_report_options *opts);
/* Adjusts the m p-values in place (Bonferroni: min(1, m p); BH: the
 * step-up adjusted p-values, monotone, capped at 1). NaN stays NaN and
 * does not count in m. Errors: MLOPS_ENOMEM, MLOPS_EINVALID (unknown
 * correction). */
int mlops__drift_correct(double *p, size_t m, mlops_drift_correction correction);
const char *mlops__drift_correction_name(mlops_drift_correction c);

#endif
