/*
 * Internal: text forms MLflow's Python reader expects, for the MLflow exports
 * of tracking and the registry (header-only; used by lib/track/export_mlflow.c,
 * lib/registry/export_mlflow.c and their tests).
 */
#ifndef MLOPS_LIB_COMMON_EXPORT_TEXT_H
#define MLOPS_LIB_COMMON_EXPORT_TEXT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

/* Longest output of mlops__export_pyfloat, NUL included:
 * "-" + 17 digits + "." + "e-308" style exponent, or 0.000ddd forms. */
#define MLOPS__PYFLOAT_MAX 32

/*
 * Python's repr(float), which is what MLflow writes in metrics/<key>: the
 * shortest digit string that reads back as the same double, in fixed
 * notation with ".0" for integral values when the decimal exponent is in
 * [-4, 16), else "1e-05" / "1.5e+16" style; "nan", "inf", "-inf". Matching
 * it byte for byte keeps our files indistinguishable from MLflow's own;
 * the reader would accept %.17g too, but not a shorter lossy form.
 * NaN loses its sign and payload: the text format cannot carry them.
 */
static inline void mlops__export_pyfloat(char out[MLOPS__PYFLOAT_MAX], double v)
{
    if (isnan(v)) {
        strcpy(out, "nan");
        return;
    }
    if (isinf(v)) {
        strcpy(out, v > 0 ? "inf" : "-inf");
        return;
    }
    /* The correctly rounded p-digit form is the best p-digit candidate,
     * so the first p that round-trips gives the shortest repr. */
    char sci[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(sci, sizeof sci, "%.*e", p - 1, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    /* sci = [-]d[.ddd]e[+-]xx */
    char digits[24];
    size_t nd = 0;
    const char *c = sci;
    int neg = *c == '-';
    if (neg)
        c++;
    for (; *c && *c != 'e'; c++)
        if (*c != '.')
            digits[nd++] = *c;
    digits[nd] = '\0';
    int exp10 = atoi(c + 1);
    int decpt = exp10 + 1; /* v = 0.digits * 10^decpt */
    char *o = out;
    if (neg)
        *o++ = '-';
    if (decpt <= -4 || decpt > 16) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, nd - 1);
            o += nd - 1;
        }
        strcpy(o, c); /* C's "e-05" exponent is Python's too: sign, two digits at least */
        return;
    }
    if (decpt <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -decpt; i++)
            *o++ = '0';
        memcpy(o, digits, nd);
        o += nd;
    } else if ((size_t)decpt >= nd) {
        memcpy(o, digits, nd);
        o += nd;
        for (size_t i = nd; i < (size_t)decpt; i++)
            *o++ = '0';
        *o++ = '.';
        *o++ = '0';
    } else {
        memcpy(o, digits, (size_t)decpt);
        o += decpt;
        *o++ = '.';
        memcpy(o, digits + decpt, nd - (size_t)decpt);
        o += nd - (size_t)decpt;
    }
    *o = '\0';
}

/*
 * A YAML scalar that PyYAML's SafeLoader reads back as exactly this
 * string: single-quoted ('' for a quote), because a bare name could
 * re-type ("0", "yes", "null") or break the line (": ", " #"). Text with
 * control characters is double-quoted with escapes instead, since a
 * single-quoted scalar cannot hold them.
 */
static inline int mlops__export_yaml_str(mlops__buf *b, const char *s)
{
    int plain_quotes = 1;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            plain_quotes = 0;
    if (plain_quotes) {
        MLOPS__TRY(mlops__buf_put(b, "'", 1));
        for (; *s; s++)
            MLOPS__TRY(*s == '\'' ? mlops__buf_puts(b, "''") : mlops__buf_put(b, s, 1));
        return mlops__buf_put(b, "'", 1);
    }
    MLOPS__TRY(mlops__buf_put(b, "\"", 1));
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            MLOPS__TRY(mlops__buf_printf(b, "\\%c", *c));
        else if (*c == '\n')
            MLOPS__TRY(mlops__buf_puts(b, "\\n"));
        else if (*c == '\t')
            MLOPS__TRY(mlops__buf_puts(b, "\\t"));
        else if (*c < 0x20 || *c == 0x7f)
            MLOPS__TRY(mlops__buf_printf(b, "\\x%02x", *c));
        else
            MLOPS__TRY(mlops__buf_put(b, c, 1));
    }
    return mlops__buf_put(b, "\"", 1);
}

#endif
