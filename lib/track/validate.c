/* MLflow's naming rules for keys, names and values, checked before anything
 * is written (so a bad input never leaves a partial record). */
#include <string.h>

#include "common/error.h"
#include "common/fs.h"
#include "track_internal.h"

/* A table, not a chain of comparisons: metric keys are checked on every
 * logged point, on the hot path. */
static const unsigned char key_chars[256] = {
    [' '] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, [':'] = 1, ['_'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
    ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

int mlops__track_check_key(const char *key, const char *kind)
{
    if (!key)
        return mlops__error_set(MLOPS_EINVALID, "%s is NULL", kind);
    size_t len = strnlen(key, MLOPS_KEY_MAX + 1);
    if (len == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s is empty", kind);
    if (len > MLOPS_KEY_MAX)
        return mlops__error_set(MLOPS_EINVALID, "%s is longer than %d characters", kind, MLOPS_KEY_MAX);
    for (size_t i = 0; i < len; i++)
        if (!key_chars[(unsigned char)key[i]]) /* the key itself is not echoed: it may hold a newline */
            return mlops__error_set(MLOPS_EINVALID, "%s has byte 0x%02x at %zu, outside [A-Za-z0-9_.- /:]", kind,
                                    (unsigned char)key[i], i);
    if (key[0] == '/')
        return mlops__error_set(MLOPS_EINVALID, "%s '%.60s' starts with '/'", kind, key);
    /* Keys become paths in an MLflow export (metrics/<key>), and MLflow
     * refuses a key that path normalisation would change: so no empty,
     * "." or ".." component (".." would also climb out of the export). */
    for (const char *c = key;;) {
        const char *slash = strchr(c, '/');
        size_t clen = slash ? (size_t)(slash - c) : strlen(c);
        if (clen == 0)
            return mlops__error_set(MLOPS_EINVALID, "%s '%.60s' has an empty path component", kind, key);
        if ((clen == 1 && c[0] == '.') || (clen == 2 && c[0] == '.' && c[1] == '.'))
            return mlops__error_set(MLOPS_EINVALID, "%s '%.60s' has a '%.*s' component", kind, key, (int)clen, c);
        if (!slash)
            break;
        c = slash + 1;
    }
    return 0;
}

int mlops__track_check_name(const char *name, const char *kind)
{
    if (!name)
        return mlops__error_set(MLOPS_EINVALID, "%s is NULL", kind);
    size_t len = strnlen(name, MLOPS_NAME_MAX + 1);
    if (len == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s is empty", kind);
    if (len > MLOPS_NAME_MAX)
        return mlops__error_set(MLOPS_EINVALID, "%s is longer than %d characters", kind, MLOPS_NAME_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return mlops__error_set(MLOPS_EINVALID, "%s has a control character at %zu", kind, i);
    return 0;
}

int mlops__track_check_value(const char *value, size_t max, const char *kind)
{
    if (!value)
        return mlops__error_set(MLOPS_EINVALID, "%s is NULL", kind);
    size_t len = strnlen(value, max + 1);
    if (len > max)
        return mlops__error_set(MLOPS_EINVALID, "%s is longer than %zu characters", kind, max);
    return 0;
}

int mlops__track_check_run_id(const char *run_id)
{
    if (!run_id)
        return mlops__error_set(MLOPS_EINVALID, "run id is NULL");
    size_t len = strnlen(run_id, MLOPS_RUN_ID_HEXSZ + 1);
    int ok = len == MLOPS_RUN_ID_HEXSZ;
    for (size_t i = 0; ok && i < len; i++)
        ok = (run_id[i] >= '0' && run_id[i] <= '9') || (run_id[i] >= 'a' && run_id[i] <= 'f');
    if (!ok)
        return mlops__error_set(MLOPS_EINVALID, "run id '%.40s' is not 32 lowercase hex digits", run_id);
    return 0;
}

int64_t mlops__track_now_ms(void)
{
    return mlops__time_ms();
}
