/* Helpers shared by the data suites: a diff as comparable text. */
#include <stdio.h>
#include <string.h>

#include "data_testutil.h"

static void check_kind_counts(const mlops_data_diff *d)
{
    uint64_t n[5] = { 0 };
    for (size_t k = 0; k < d->count; k++)
        n[d->changes[k].kind]++;
    ck_assert_uint_eq(d->added, n[MLOPS_DATA_ADDED]);
    ck_assert_uint_eq(d->removed, n[MLOPS_DATA_REMOVED]);
    ck_assert_uint_eq(d->modified, n[MLOPS_DATA_MODIFIED]);
    ck_assert_uint_eq(d->renamed, n[MLOPS_DATA_RENAMED]);
}

static const char *tname(mlops_data_type t)
{
    return t == MLOPS_DATA_FILE ? "file" : t == MLOPS_DATA_DIR ? "dir" : t == MLOPS_DATA_SYMLINK ? "link" : "-";
}

/* One line per change: "+ path type size", "- path type size",
 * "~ path oldtype>newtype oldsize>newsize", "> old_path path type size". */
char *tu_describe_diff(const mlops_data_diff *d)
{
    size_t cap = 64 + d->count * 256, len = 0;
    check_kind_counts(d);
    char *out = tu_xmalloc(cap);
    out[0] = '\0';
    for (size_t k = 0; k < d->count; k++) {
        const mlops_data_change *c = &d->changes[k];
        ck_assert_uint_lt(len + 200 + strlen(c->path), cap);
        switch (c->kind) {
        case MLOPS_DATA_ADDED:
            ck_assert_ptr_null(c->old_path);
            ck_assert_int_eq(c->old_type, 0);
            len += (size_t)sprintf(out + len, "+ %s %s %llu\n", c->path, tname(c->new_type),
                                   (unsigned long long)c->new_size);
            break;
        case MLOPS_DATA_REMOVED:
            ck_assert_ptr_null(c->old_path);
            ck_assert_int_eq(c->new_type, 0);
            len += (size_t)sprintf(out + len, "- %s %s %llu\n", c->path, tname(c->old_type),
                                   (unsigned long long)c->old_size);
            break;
        case MLOPS_DATA_MODIFIED:
            len += (size_t)sprintf(out + len, "~ %s %s>%s %llu>%llu\n", c->path, tname(c->old_type),
                                   tname(c->new_type), (unsigned long long)c->old_size,
                                   (unsigned long long)c->new_size);
            break;
        case MLOPS_DATA_RENAMED:
            ck_assert_ptr_nonnull(c->old_path);
            ck_assert_int_eq(c->old_type, c->new_type);
            ck_assert_int_eq(mlops_oid_cmp(&c->old_id, &c->new_id), 0);
            len += (size_t)sprintf(out + len, "> %s %s %s %llu\n", c->old_path, c->path, tname(c->new_type),
                                   (unsigned long long)c->new_size);
            break;
        default:
            ck_abort_msg("unknown kind %d", (int)c->kind);
        }
    }
    return out;
}

