/* Ref and log names map onto paths of the fs backend and onto object-store
 * keys of future backends, so the rules are strict and checked up front. */
#include <string.h>

#include "common/error.h"
#include "mlops/store.h"
#include "ref_name.h"

static int component_check(const char *c, size_t len, const char *kind, const char *name)
{
    if (len == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s name '%.100s' has an empty component", kind, name);
    if (c[0] == '.')
        return mlops__error_set(MLOPS_EINVALID, "%s name '%.100s' has a component starting with '.'", kind,
                                name);
    if (len >= 5 && memcmp(c + len - 5, ".lock", 5) == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s name '%.100s' has a component ending in '.lock'", kind,
                                name);
    return 0;
}

static int check(const char *name, const char *kind, int allow_trailing_slash)
{
    if (!name)
        return mlops__error_set(MLOPS_EINVALID, "%s name is NULL", kind);
    size_t len = strnlen(name, MLOPS_REF_NAME_MAX + 1);
    if (len == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s name is empty", kind);
    if (len > MLOPS_REF_NAME_MAX)
        return mlops__error_set(MLOPS_EINVALID, "%s name is longer than %d bytes", kind, MLOPS_REF_NAME_MAX);
    if (name[0] == '/')
        return mlops__error_set(MLOPS_EINVALID, "%s name '%.100s' starts with '/'", kind, name);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch < 0x20 || ch == 0x7f)
            return mlops__error_set(MLOPS_EINVALID, "%s name has a control character at byte %zu", kind, i);
        if (ch == '\\')
            return mlops__error_set(MLOPS_EINVALID, "%s name '%.100s' contains a backslash", kind, name);
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '/')
            continue;
        if (i == len && allow_trailing_slash && i == start)
            break;
        MLOPS__TRY(component_check(name + start, i - start, kind, name));
        start = i + 1;
    }
    return 0;
}

int mlops__name_check(const char *name, const char *kind)
{
    return check(name, kind, 0);
}

int mlops__prefix_check(const char *prefix, const char *kind)
{
    if (!prefix || !*prefix)
        return 0;
    /* A prefix may stop mid-component ("runs/ab"), so only refuse what no
     * name could start with. */
    if (prefix[0] == '/' || strstr(prefix, "//") || strstr(prefix, "/.") || prefix[0] == '.')
        return mlops__error_set(MLOPS_EINVALID, "%s prefix '%.100s' cannot start any valid name", kind, prefix);
    for (const char *p = prefix; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
            return mlops__error_set(MLOPS_EINVALID, "%s prefix has a forbidden character", kind);
    return 0;
}

int mlops_ref_name_is_valid(const char *name)
{
    return mlops__name_check(name, "ref") == 0;
}
