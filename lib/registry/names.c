/*
 * Names the registry accepts (MLflow's rules, /tmp/research notes in
 * docs): model names, alias names, tag keys, stages, and the ref a model
 * lives under. Every message says which rule was broken.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "registry_internal.h"

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

int mlops__reg_name_check(const char *name)
{
    if (!name || !*name)
        return mlops__error_set(MLOPS_EINVALID, "registered model name cannot be empty");
    size_t len = strnlen(name, MLOPS_REGISTRY_NAME_MAX + 1);
    if (len > MLOPS_REGISTRY_NAME_MAX)
        return mlops__error_set(MLOPS_EINVALID, "registered model name longer than %d bytes",
                                MLOPS_REGISTRY_NAME_MAX);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return mlops__error_set(MLOPS_EINVALID, "invalid registered model name '%s'", name);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (is_control(c))
            return mlops__error_set(MLOPS_EINVALID, "invalid registered model name: control character 0x%02x at %zu",
                                    c, i);
        if (strchr("/\\:%", c))
            return mlops__error_set(MLOPS_EINVALID, "invalid registered model name '%s': cannot contain '%c'", name,
                                    c);
    }
    return 0;
}

/* Index of the first byte of s that is neither an ASCII letter or digit
 * nor one of extra; len if there is none. */
static size_t bad_char(const char *s, size_t len, const char *extra)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr(extra, c))))
            return i;
    }
    return len;
}

int mlops__reg_alias_check(const char *alias)
{
    if (!alias || !*alias)
        return mlops__error_set(MLOPS_EINVALID, "registered model alias name cannot be empty");
    size_t len = strnlen(alias, MLOPS_REGISTRY_ALIAS_MAX + 1);
    if (len > MLOPS_REGISTRY_ALIAS_MAX)
        return mlops__error_set(MLOPS_EINVALID, "alias name longer than %d bytes", MLOPS_REGISTRY_ALIAS_MAX);
    if (bad_char(alias, len, "_-") < len)
        return mlops__error_set(MLOPS_EINVALID, "invalid alias name '%.100s': only alphanumerics, '_' and '-' allowed",
                                alias);
    return 0;
}

int mlops__reg_alias_check_settable(const char *alias)
{
    MLOPS__TRY(mlops__reg_alias_check(alias));
    if (strcasecmp(alias, "latest") == 0)
        return mlops__error_set(MLOPS_EINVALID, "alias name '%s' is reserved ('latest', any case)", alias);
    if ((alias[0] == 'v' || alias[0] == 'V') && alias[1] && strspn(alias + 1, "0123456789") == strlen(alias + 1))
        return mlops__error_set(MLOPS_EINVALID, "version alias name '%.100s' is reserved", alias);
    return 0;
}

/* MLflow's path_not_unique: no empty, "." or ".." component, no leading
 * or trailing '/'. */
static int key_path_ok(const char *key, size_t len)
{
    if (key[0] == '/' || key[len - 1] == '/')
        return 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && key[j] != '/')
            j++;
        size_t n = j - i;
        if (n == 0 || (n == 1 && key[i] == '.') || (n == 2 && key[i] == '.' && key[i + 1] == '.'))
            return 0;
        i = j + 1;
    }
    return 1;
}

int mlops__reg_tag_check(const char *key, const char *value)
{
    if (!key || !*key)
        return mlops__error_set(MLOPS_EINVALID, "tag key cannot be empty");
    size_t len = strnlen(key, MLOPS_REGISTRY_TAG_KEY_MAX + 1);
    if (len > MLOPS_REGISTRY_TAG_KEY_MAX)
        return mlops__error_set(MLOPS_EINVALID, "tag key longer than %d bytes", MLOPS_REGISTRY_TAG_KEY_MAX);
    if (bad_char(key, len, "_.- /:") < len)
        return mlops__error_set(MLOPS_EINVALID, "invalid tag key '%.100s': only [A-Za-z0-9_.- /:] allowed", key);
    if (!key_path_ok(key, len))
        return mlops__error_set(MLOPS_EINVALID, "invalid tag key '%s': empty, '.' or '..' path component", key);
    if (!value)
        return mlops__error_set(MLOPS_EINVALID, "tag '%s' has a NULL value", key);
    return mlops__reg_text_check(value, MLOPS_REGISTRY_TAG_VALUE_MAX, "tag value");
}

int mlops__reg_text_check(const char *text, size_t max, const char *what)
{
    if (text && strnlen(text, max + 1) > max)
        return mlops__error_set(MLOPS_EINVALID, "%s longer than %zu bytes", what, max);
    return 0;
}

int mlops__reg_ref_name(char out[MLOPS__REG_REF_MAX], const char *name)
{
    mlops_oid h;
    char hex[MLOPS_OID_HEXSZ + 1];
    MLOPS__TRY(mlops_oid_hash(&h, name, strlen(name)));
    mlops_oid_tohex(hex, &h);
    snprintf(out, MLOPS__REG_REF_MAX, "%s%s", MLOPS__REG_PREFIX, hex);
    return 0;
}

static const char *const stage_names[] = { "None", "Staging", "Production", "Archived" };

const char *mlops_registry_stage_name(mlops_registry_stage stage)
{
    return (unsigned)stage < 4 ? stage_names[stage] : "?";
}

int mlops_registry_stage_parse(mlops_registry_stage *out, const char *name)
{
    if (!out || !name)
        return mlops__error_set(MLOPS_EINVALID, "registry_stage_parse: NULL argument");
    for (unsigned i = 0; i < 4; i++)
        if (strcasecmp(name, stage_names[i]) == 0) {
            *out = (mlops_registry_stage)i;
            return 0;
        }
    return mlops__error_set(MLOPS_EINVALID, "invalid model version stage '%.100s' (None, Staging, Production, Archived)",
                            name);
}
