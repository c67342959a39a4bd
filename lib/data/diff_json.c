/*
 * mlops_data_diff_json: a diff as one JSON object (RFC 8259).
 *
 * Entry names are arbitrary bytes, JSON strings are Unicode. Valid UTF-8
 * is copied as is; every byte that is not part of a valid sequence
 * (stray continuation, overlong form, surrogate, beyond U+10FFFF,
 * truncated) is written as \u00XX of that byte, so the output is always
 * valid JSON and the bytes of a Latin-1 name survive as code points
 * U+0080..U+00FF. The price: a reader cannot tell the byte 0xE9 from the
 * character U+00E9 (bytes C3 A9); a caller that needs the exact bytes of
 * such a name reads the mlops_data_diff itself. Control characters,
 * '"' and '\\' are escaped (controls always as \u00XX); DEL too, for
 * terminals.
 */
#include <inttypes.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "data_internal.h"

/* Length of the valid UTF-8 sequence (RFC 3629) at p, 0 if there is none. */
static size_t utf8_valid_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0; /* overlong */
    else if (c == 0xed)
        hi = 0x9f; /* surrogates */
    else if (c == 0xf0)
        lo = 0x90; /* overlong */
    else if (c == 0xf4)
        hi = 0x8f; /* beyond U+10FFFF */
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (p[k] < 0x80 || p[k] > 0xbf)
            return 0;
    return len;
}

static int json_str(mlops__buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    MLOPS__TRY(mlops__buf_put(b, "\"", 1));
    while (n) {
        size_t run = 0;
        /* Copy the longest stretch needing no escape in one call. */
        while (run < n) {
            const unsigned char c = p[run];
            if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f)
                break;
            size_t len = utf8_valid_len(p + run, n - run);
            if (len == 0)
                break;
            run += len;
        }
        MLOPS__TRY(mlops__buf_put(b, p, run));
        p += run;
        n -= run;
        if (!n)
            break;
        if (*p == '"' || *p == '\\')
            MLOPS__TRY(mlops__buf_printf(b, "\\%c", *p));
        else
            MLOPS__TRY(mlops__buf_printf(b, "\\u00%02x", *p));
        p++;
        n--;
    }
    return mlops__buf_put(b, "\"", 1);
}

static const char *type_name(mlops_data_type t)
{
    switch (t) {
    case MLOPS_DATA_FILE: return "file";
    case MLOPS_DATA_DIR: return "dir";
    case MLOPS_DATA_SYMLINK: return "symlink";
    }
    return "unknown";
}

static const char *kind_name(mlops_data_change_kind k)
{
    switch (k) {
    case MLOPS_DATA_ADDED: return "added";
    case MLOPS_DATA_REMOVED: return "removed";
    case MLOPS_DATA_MODIFIED: return "modified";
    case MLOPS_DATA_RENAMED: return "renamed";
    }
    return "unknown";
}

/* ,"<prefix>type":"..","<prefix>id":"..","<prefix>size":N */
static int json_side(mlops__buf *b, const char *prefix, mlops_data_type type, const mlops_oid *id, uint64_t size)
{
    char hex[MLOPS_OID_HEXSZ + 1];
    MLOPS__TRY(mlops_oid_tohex(hex, id));
    return mlops__buf_printf(b, ",\"%stype\":\"%s\",\"%sid\":\"%s\",\"%ssize\":%" PRIu64, prefix, type_name(type),
                             prefix, hex, prefix, size);
}

static int json_change(mlops__buf *b, const mlops_data_change *c)
{
    MLOPS__TRY(mlops__buf_printf(b, "{\"kind\":\"%s\"", kind_name(c->kind)));
    if (c->kind == MLOPS_DATA_RENAMED) {
        MLOPS__TRY(mlops__buf_puts(b, ",\"old_path\":"));
        MLOPS__TRY(json_str(b, c->old_path ? c->old_path : ""));
    }
    MLOPS__TRY(mlops__buf_puts(b, ",\"path\":"));
    MLOPS__TRY(json_str(b, c->path ? c->path : ""));
    switch (c->kind) {
    case MLOPS_DATA_MODIFIED:
        MLOPS__TRY(json_side(b, "old_", c->old_type, &c->old_id, c->old_size));
        MLOPS__TRY(json_side(b, "new_", c->new_type, &c->new_id, c->new_size));
        break;
    case MLOPS_DATA_REMOVED:
        MLOPS__TRY(json_side(b, "", c->old_type, &c->old_id, c->old_size));
        break;
    default: /* added, renamed: the new side (a rename's content is equal) */
        MLOPS__TRY(json_side(b, "", c->new_type, &c->new_id, c->new_size));
        break;
    }
    return mlops__buf_put(b, "}", 1);
}

static int json_diff(mlops__buf *b, const mlops_data_diff *d)
{
    MLOPS__TRY(mlops__buf_printf(b,
                                 "{\"added\":%" PRIu64 ",\"removed\":%" PRIu64 ",\"modified\":%" PRIu64
                                 ",\"renamed\":%" PRIu64 ",\"old\":{\"size\":%" PRIu64 ",\"files\":%" PRIu64
                                 "},\"new\":{\"size\":%" PRIu64 ",\"files\":%" PRIu64 "},\"files_hashed\":%" PRIu64
                                 ",\"changes\":[",
                                 d->added, d->removed, d->modified, d->renamed, d->old_size, d->old_files,
                                 d->new_size, d->new_files, d->files_hashed));
    for (size_t k = 0; k < d->count; k++) {
        if (k)
            MLOPS__TRY(mlops__buf_put(b, ",", 1));
        MLOPS__TRY(json_change(b, &d->changes[k]));
    }
    return mlops__buf_puts(b, "]}");
}

int mlops_data_diff_json(char **out, const mlops_data_diff *diff)
{
    if (out)
        *out = NULL;
    if (!out || !diff || (!diff->changes && diff->count))
        return mlops__error_set(MLOPS_EINVALID, "data_diff_json: NULL argument");
    mlops__buf b = MLOPS__BUF_INIT;
    int rc = json_diff(&b, diff);
    if (rc < 0) {
        mlops__buf_dispose(&b);
        return rc;
    }
    *out = mlops__buf_detach(&b, NULL);
    return 0;
}
