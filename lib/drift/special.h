/* Internal: special functions shared by the drift files. */
#ifndef MLOPS_LIB_DRIFT_SPECIAL_H
#define MLOPS_LIB_DRIFT_SPECIAL_H

/* The scaled complementary error function erfc(y) e^(y^2), y >= 0, to a
 * few ulp: the tails of the normal and incomplete gamma functions are
 * e^(-exponent) times it, with the exponent formed exactly. */
double mlops__drift_erfcx(double y);

#endif
