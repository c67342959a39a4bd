/* Helpers shared by the data suites. */
#ifndef MLOPS_TESTS_DATA_TESTUTIL_H
#define MLOPS_TESTS_DATA_TESTUTIL_H

#include "mlops/data.h"
#include "testutil.h"

/* A diff as text, one line per change (malloc'd): "+ path type size",
 * "- path type size", "~ path oldtype>newtype oldsize>newsize",
 * "> old_path path type size"; checks each change's invariants and the
 * per-kind counts on the way. */
char *tu_describe_diff(const mlops_data_diff *d);

#endif
