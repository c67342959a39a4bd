/* Error codes, their names and messages, and the per-thread last error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

#define LAST_ERROR_MAX 512

/* Per-thread and fixed-size: recording an error never allocates, so an
 * out-of-memory failure can always be described. */
static _Thread_local char last_message[LAST_ERROR_MAX];
static _Thread_local int last_code;

const char *mlops_strerror(int code)
{
    switch (code) {
#define MLOPS__ERROR_MSG(name, value, msg) \
    case value:                            \
        return msg;
        MLOPS_ERROR_MAP(MLOPS__ERROR_MSG)
#undef MLOPS__ERROR_MSG
    default:
        return "unknown error code";
    }
}

const char *mlops_error_name(int code)
{
    switch (code) {
#define MLOPS__ERROR_NAME(name, value, msg) \
    case value:                             \
        return #name;
        MLOPS_ERROR_MAP(MLOPS__ERROR_NAME)
#undef MLOPS__ERROR_NAME
    default:
        return "UNKNOWN";
    }
}

const char *mlops_error_last(void)
{
    return last_message;
}

int mlops_error_last_code(void)
{
    return last_code;
}

static void set_message(int code, const char *fmt, va_list ap)
{
    last_code = code;
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    /* One line, always: a caller may log it verbatim. */
    for (char *p = last_message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

int mlops__error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(code, fmt, ap);
    va_end(ap);
    return code;
}

int mlops__errno_code(int err)
{
    switch (err) {
    case ENOENT:
        return MLOPS_ENOTFOUND;
    case EEXIST:
    case ENOTEMPTY:
        return MLOPS_EEXISTS;
    case ENOMEM:
        return MLOPS_ENOMEM;
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
        return MLOPS_ENOSPACE;
    case EACCES:
    case EPERM:
    case EROFS:
        return MLOPS_EPERM;
    case EISDIR:
    case ENOTDIR:
    case ENAMETOOLONG:
    case EINVAL:
        return MLOPS_EINVALID;
    default:
        return MLOPS_EIO;
    }
}

int mlops__error_errno(int err, const char *fmt, ...)
{
    int code = mlops__errno_code(err);
    char what[LAST_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mlops__error_set(code, "%s: %s", what, strerror(err));
}

int mlops__error_prefix(int code, const char *fmt, ...)
{
    char prefix[LAST_ERROR_MAX], saved[LAST_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(saved, last_message, sizeof saved);
    return mlops__error_set(code, "%s: %s", prefix, saved);
}

int mlops__error_oom(void)
{
    return mlops__error_set(MLOPS_ENOMEM, "out of memory");
}
