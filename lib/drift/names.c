/* Names of alternatives, methods and report tests, as users spell them. */
#include <string.h>

#include "common/error.h"
#include "mlops/drift.h"

int mlops_drift_alternative_parse(mlops_drift_alternative *out, const char *name)
{
    if (!out || !name)
        return mlops__error_set(MLOPS_EINVALID, "alternative_parse: NULL argument");
    if (strcmp(name, "two-sided") == 0)
        *out = MLOPS_DRIFT_TWO_SIDED;
    else if (strcmp(name, "less") == 0)
        *out = MLOPS_DRIFT_LESS;
    else if (strcmp(name, "greater") == 0)
        *out = MLOPS_DRIFT_GREATER;
    else
        return mlops__error_set(MLOPS_EINVALID, "unknown alternative '%.64s' (two-sided, less or greater)", name);
    return 0;
}

int mlops_drift_method_parse(mlops_drift_method *out, const char *name)
{
    if (!out || !name)
        return mlops__error_set(MLOPS_EINVALID, "method_parse: NULL argument");
    if (strcmp(name, "auto") == 0)
        *out = MLOPS_DRIFT_AUTO;
    else if (strcmp(name, "exact") == 0)
        *out = MLOPS_DRIFT_EXACT;
    else if (strcmp(name, "asymp") == 0 || strcmp(name, "asymptotic") == 0)
        *out = MLOPS_DRIFT_ASYMPTOTIC;
    else
        return mlops__error_set(MLOPS_EINVALID, "unknown method '%.64s' (auto, exact or asymp)", name);
    return 0;
}

static const char *const stattest_names[] = {
    [MLOPS_DRIFT_TEST_DEFAULT] = "default",
    [MLOPS_DRIFT_TEST_KS] = "ks",
    [MLOPS_DRIFT_TEST_CHISQUARE] = "chisquare",
    [MLOPS_DRIFT_TEST_ZTEST] = "z",
    [MLOPS_DRIFT_TEST_WASSERSTEIN] = "wasserstein",
    [MLOPS_DRIFT_TEST_JENSENSHANNON] = "jensenshannon",
    [MLOPS_DRIFT_TEST_PSI] = "psi",
    [MLOPS_DRIFT_TEST_KL] = "kl_div",
    [MLOPS_DRIFT_TEST_HELLINGER] = "hellinger",
    [MLOPS_DRIFT_TEST_TV] = "TV",
    [MLOPS_DRIFT_TEST_ANDERSON] = "anderson",
    [MLOPS_DRIFT_TEST_CRAMERVONMISES] = "cramer_von_mises",
    [MLOPS_DRIFT_TEST_MANNWHITNEY] = "mannw",
    [MLOPS_DRIFT_TEST_ENERGY] = "ed",
};
#define NTESTS (sizeof stattest_names / sizeof stattest_names[0])

int mlops_drift_stattest_parse(mlops_drift_stattest *out, const char *name)
{
    if (!out || !name)
        return mlops__error_set(MLOPS_EINVALID, "stattest_parse: NULL argument");
    for (size_t i = 0; i < NTESTS; i++) {
        if (strcmp(name, stattest_names[i]) == 0) {
            *out = (mlops_drift_stattest)i;
            return 0;
        }
    }
    return mlops__error_set(MLOPS_EINVALID, "unknown drift test '%.64s'", name);
}

const char *mlops_drift_stattest_name(mlops_drift_stattest test)
{
    return (unsigned)test < NTESTS ? stattest_names[test] : "?";
}
