/*
 * Names the data module accepts: manifest entry names, symlink targets,
 * dataset names and tags. Everything checkout will create on disk passes
 * through here first, so the rules are strict and the messages say which
 * rule was broken.
 */
#include <string.h>
#include "common/error.h"
#include "data_internal.h"

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

int mlops__data_name_has_control(const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (is_control((unsigned char)name[i]))
            return 1;
    return 0;
}

int mlops__data_name_check(const char *name, size_t len)
{
    if (!name || len == 0)
        return mlops__error_set(MLOPS_EINVALID, "invalid entry name: empty");
    if (len > MLOPS__DATA_ENTRY_NAME_MAX)
        return mlops__error_set(MLOPS_EINVALID, "invalid entry name: longer than %d bytes",
                                MLOPS__DATA_ENTRY_NAME_MAX);
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return mlops__error_set(MLOPS_EINVALID, "invalid entry name '%.*s'", (int)len, name);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '/')
            return mlops__error_set(MLOPS_EINVALID, "invalid entry name '%.*s': contains '/'", (int)len, name);
        if (c == 0)
            return mlops__error_set(MLOPS_EINVALID, "invalid entry name: contains a NUL byte at %zu", i);
        if (is_control(c))
            return mlops__error_set(MLOPS_EINVALID, "invalid entry name: control character 0x%02x at %zu", c, i);
    }
    return 0;
}

/*
 * Why "every .. first" is enough: the link's own directory is a real
 * directory of the tree (manifests nest real directories only), so the
 * leading ".." steps climb real directories and stay inside as long as
 * there are at most depth of them. After that only downward names follow;
 * any of them may be another link, which by the same rule resolves inside
 * the tree, so the whole resolution never leaves it. A ".." after a name
 * could undo a link ("d/.." with d -> "." climbs one level too high), so it
 * is refused even when a lexical reading looks harmless.
 */
int mlops__data_link_target_check(const char *target, size_t len, unsigned depth)
{
    if (!target || len == 0)
        return mlops__error_set(MLOPS_EINVALID, "invalid symlink target: empty");
    if (len > MLOPS__DATA_LINK_TARGET_MAX)
        return mlops__error_set(MLOPS_EINVALID, "invalid symlink target: longer than %d bytes",
                                MLOPS__DATA_LINK_TARGET_MAX);
    if (target[0] == '/')
        return mlops__error_set(MLOPS_EINVALID, "invalid symlink target '%.*s': absolute", (int)len, target);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c == 0 || is_control(c))
            return mlops__error_set(MLOPS_EINVALID, "invalid symlink target: control character 0x%02x at %zu",
                                    c, i);
    }
    unsigned ups = 0;
    int descended = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && target[j] != '/')
            j++;
        size_t n = j - i;
        const char *comp = target + i;
        if (n == 2 && comp[0] == '.' && comp[1] == '.') {
            if (descended)
                return mlops__error_set(MLOPS_EINVALID,
                                        "invalid symlink target '%.*s': '..' after a name could leave the tree",
                                        (int)len, target);
            if (++ups > depth)
                return mlops__error_set(MLOPS_EINVALID, "invalid symlink target '%.*s': climbs out of the tree",
                                        (int)len, target);
        } else if (n > 0 && !(n == 1 && comp[0] == '.')) {
            descended = 1;
        }
        i = j + 1;
    }
    return 0;
}

/* Dataset names and tags share one alphabet; they become ref components. */
static int simple_name_check(const char *what, const char *name)
{
    if (!name || !*name)
        return mlops__error_set(MLOPS_EINVALID, "invalid %s: empty", what);
    size_t len = strlen(name);
    if (len > MLOPS_DATA_NAME_MAX)
        return mlops__error_set(MLOPS_EINVALID, "invalid %s: longer than %d bytes", what, MLOPS_DATA_NAME_MAX);
    if (name[0] == '.' || name[0] == '-')
        return mlops__error_set(MLOPS_EINVALID, "invalid %s '%s': must not start with '%c'", what, name, name[0]);
    if (len >= 5 && strcmp(name + len - 5, ".lock") == 0)
        return mlops__error_set(MLOPS_EINVALID, "invalid %s '%s': must not end in '.lock' (the store's lock suffix)",
                                what, name);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '-';
        if (!ok)
            return mlops__error_set(MLOPS_EINVALID, "invalid %s '%.*s': only [A-Za-z0-9._-] allowed", what,
                                    (int)(len > 200 ? 200 : len), name);
    }
    return 0;
}

int mlops__data_dataset_name_check(const char *name)
{
    return simple_name_check("dataset name", name);
}

int mlops__data_tag_check(const char *tag)
{
    MLOPS__TRY(simple_name_check("tag", tag));
    if (strcmp(tag, "latest") == 0)
        return mlops__error_set(MLOPS_EINVALID, "invalid tag 'latest': reserved");
    if (strspn(tag, "0123456789") == strlen(tag))
        return mlops__error_set(MLOPS_EINVALID, "invalid tag '%s': all digits would read as a version number",
                                tag);
    return 0;
}
