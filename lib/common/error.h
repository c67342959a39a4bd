/* Internal: recording the thread's last error. */
#ifndef MLOPS_LIB_COMMON_ERROR_H
#define MLOPS_LIB_COMMON_ERROR_H

#include "mlops/common.h"

#if defined(__GNUC__)
#define MLOPS__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MLOPS__PRINTF(f, a)
#endif

/* Records a formatted one-line message for code and returns code. */
int mlops__error_set(int code, const char *fmt, ...) MLOPS__PRINTF(2, 3);
/* Maps errno value err to a code (ENOENT→ENOTFOUND, ENOSPC→ENOSPACE,
 * EACCES/EROFS→EPERM, …, else EIO), records "<message>: <strerror>" and
 * returns the code. */
int mlops__error_errno(int err, const char *fmt, ...) MLOPS__PRINTF(2, 3);
/* Puts "<formatted prefix>: " in front of the current last message and
 * records it under code (the message may not be passed as an argument of
 * mlops__error_set: it is the buffer being written). Returns code. */
int mlops__error_prefix(int code, const char *fmt, ...) MLOPS__PRINTF(2, 3);
/* Shorthand for an allocation failure. */
int mlops__error_oom(void);
/* Maps an errno value to a code without recording anything. */
int mlops__errno_code(int err);

/* Propagate a negative code. */
#define MLOPS__TRY(expr)          \
    do {                          \
        int mlops__rc_ = (expr);  \
        if (mlops__rc_ < 0)       \
            return mlops__rc_;    \
    } while (0)

#endif
