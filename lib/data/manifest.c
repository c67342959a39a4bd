/*
 * The per-directory manifest (docs/FORMAT.md, "Data manifests").
 *
 * A manifest is a structured object of type "data.tree" whose links are
 * the ids of its files and subdirectories (so gc keeps them) and whose
 * body is canonical: one byte string per set of entries. Body:
 *
 *   u8  version (1), u8[3] reserved (0), u32 entry count
 *   per entry, sorted bytewise by name (shorter first on a common prefix):
 *     u8 type (1 file, 2 dir, 3 symlink), u8 flags (bit 0: executable,
 *     files only), u16 name length, u32 target length (symlinks only),
 *     u64 size, u64 files, 32-byte id, name bytes, target bytes
 *
 * All integers little endian. Parsing accepts exactly the bytes the
 * encoder produces and nothing else; whatever is wrong with a manifest's
 * content is MLOPS_EINVALID, because the object itself is intact.
 */
#include <stdlib.h>
#include <string.h>
#include "common/alloc.h"
#include "common/error.h"
#include "common/sha256.h"
#include "data_internal.h"
#include "store/object_codec.h"
#include "store/object_io.h"
#include "store/structured.h"

#define TREE_BODY_VERSION 1
#define TREE_HEADER 8
#define ENTRY_FIXED (1 + 1 + 2 + 4 + 8 + 8 + MLOPS_OID_RAWSZ)

int mlops__tree_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int entry_cmp(const void *pa, const void *pb)
{
    const mlops__tree_entry *a = pa, *b = pb;
    return mlops__tree_name_cmp(a->name, a->name_len, b->name, b->name_len);
}

void mlops__tree_sort(mlops__tree_entry *entries, size_t count)
{
    if (count > 1)
        qsort(entries, count, sizeof *entries, entry_cmp);
}

static int has_link(const mlops__tree_entry *e)
{
    return e->type == MLOPS_DATA_FILE || e->type == MLOPS_DATA_DIR;
}

static int add_total(uint64_t *sum, uint64_t v)
{
    if (*sum > UINT64_MAX - v)
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: totals overflow");
    *sum += v;
    return 0;
}

/* Every rule of one entry, in the order a reader would want to hear them. */
static int entry_check(const mlops__tree_entry *e, const mlops__tree_entry *prev, unsigned depth)
{
    MLOPS__TRY(mlops__data_name_check(e->name, e->name_len));
    if (prev) {
        int c = mlops__tree_name_cmp(prev->name, prev->name_len, e->name, e->name_len);
        if (c == 0)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: duplicate name '%.*s'", (int)e->name_len,
                                    e->name);
        if (c > 0)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: '%.*s' is not in sorted order",
                                    (int)e->name_len, e->name);
    }
    switch (e->type) {
    case MLOPS_DATA_FILE:
        if (e->flags & ~MLOPS__TREE_EXEC)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: unknown flags on '%.*s'", (int)e->name_len,
                                    e->name);
        if (e->files != 1 || e->target_len)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: malformed file entry '%.*s'",
                                    (int)e->name_len, e->name);
        return 0;
    case MLOPS_DATA_DIR:
        if (e->flags || e->target_len)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: malformed directory entry '%.*s'",
                                    (int)e->name_len, e->name);
        return 0;
    case MLOPS_DATA_SYMLINK: {
        if (e->flags || e->files != 0 || e->size != e->target_len)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: malformed symlink entry '%.*s'",
                                    (int)e->name_len, e->name);
        int rc = mlops__data_link_target_check(e->target, e->target_len, depth);
        if (rc < 0)
            return mlops__error_prefix(rc, "symlink '%.*s'", (int)e->name_len, e->name);
        mlops_oid id;
        MLOPS__TRY(mlops_oid_hash(&id, e->target, e->target_len));
        if (mlops_oid_cmp(&id, &e->id) != 0)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: symlink '%.*s' id is not its target's hash",
                                    (int)e->name_len, e->name);
        return 0;
    }
    default:
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: unknown type %d of '%.*s'", (int)e->type,
                                (int)e->name_len, e->name);
    }
}

static int entries_check(const mlops__tree_entry *entries, size_t count, unsigned depth)
{
    uint64_t size = 0, files = 0;
    for (size_t i = 0; i < count; i++) {
        const mlops__tree_entry *e = &entries[i];
        MLOPS__TRY(entry_check(e, i ? &entries[i - 1] : NULL, depth));
        if (e->type != MLOPS_DATA_SYMLINK)
            MLOPS__TRY(add_total(&size, e->size));
        MLOPS__TRY(add_total(&files, e->files));
    }
    return 0;
}

int mlops__tree_encode_unchecked(mlops_oid **links, size_t *nlinks, mlops__buf *body,
                                 const mlops__tree_entry *entries, size_t count)
{
    if (!links || !nlinks || !body || (!entries && count))
        return mlops__error_set(MLOPS_EINVALID, "tree_encode: NULL argument");
    if (count > UINT32_MAX)
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: too many entries");
    size_t nl = 0;
    for (size_t i = 0; i < count; i++)
        nl += has_link(&entries[i]);
    mlops_oid *l = mlops__calloc(nl ? nl : 1, sizeof *l);
    if (!l)
        return mlops__error_oom();
    unsigned char hdr[TREE_HEADER] = { TREE_BODY_VERSION, 0, 0, 0 };
    mlops__put_le32(hdr + 4, (uint32_t)count);
    int rc = mlops__buf_put(body, hdr, sizeof hdr);
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const mlops__tree_entry *e = &entries[i];
        unsigned char f[ENTRY_FIXED];
        f[0] = (unsigned char)e->type;
        f[1] = (unsigned char)e->flags;
        f[2] = (unsigned char)(e->name_len & 0xff);
        f[3] = (unsigned char)(e->name_len >> 8);
        mlops__put_le32(f + 4, (uint32_t)e->target_len);
        mlops__put_le64(f + 8, e->size);
        mlops__put_le64(f + 16, e->files);
        memcpy(f + 24, e->id.id, MLOPS_OID_RAWSZ);
        rc = mlops__buf_put(body, f, sizeof f);
        if (rc == 0)
            rc = mlops__buf_put(body, e->name, e->name_len);
        if (rc == 0 && e->target_len)
            rc = mlops__buf_put(body, e->target, e->target_len);
        if (has_link(e))
            l[k++] = e->id;
    }
    if (rc < 0) {
        mlops__free(l);
        return rc;
    }
    *links = l;
    *nlinks = nl;
    return 0;
}

int mlops__tree_encode(mlops_oid **links, size_t *nlinks, mlops__buf *body, const mlops__tree_entry *entries,
                       size_t count, unsigned depth)
{
    if (!entries && count)
        return mlops__error_set(MLOPS_EINVALID, "tree_encode: NULL argument");
    MLOPS__TRY(entries_check(entries, count, depth));
    return mlops__tree_encode_unchecked(links, nlinks, body, entries, count);
}

int mlops__tree_put(mlops_oid *out, mlops_store *store, const mlops__tree_entry *entries, size_t count,
                    unsigned depth)
{
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "tree_put: NULL argument");
    mlops_oid *links = NULL;
    size_t nlinks = 0;
    mlops__buf body = MLOPS__BUF_INIT, whole = MLOPS__BUF_INIT;
    int rc = mlops__tree_encode(&links, &nlinks, &body, entries, count, depth);
    if (rc < 0)
        goto done;
    if (store) {
        rc = mlops_object_put_structured(out, store, MLOPS__TREE_TYPE, links, nlinks, body.ptr, body.len);
    } else {
        rc = mlops__structured_encode(&whole, MLOPS__TREE_TYPE, links, nlinks, body.ptr, body.len);
        if (rc == 0)
            rc = mlops_oid_hash(out, whole.ptr, whole.len);
    }
done:
    mlops__free(links);
    mlops__buf_dispose(&body);
    mlops__buf_dispose(&whole);
    return rc;
}

/* Decodes the body into entries pointing into it; no rule checked yet
 * beyond what is needed to stay inside the bytes. */
static int body_decode(mlops__tree *t, const unsigned char *p, size_t len)
{
    if (len < TREE_HEADER)
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: body of %zu bytes", len);
    if (p[0] != TREE_BODY_VERSION)
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: body version %u", p[0]);
    if (p[1] || p[2] || p[3])
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: reserved bytes set");
    uint32_t count = mlops__get_le32(p + 4);
    /* Each entry takes at least ENTRY_FIXED + 1 bytes: bounds the allocation
     * by the object's size, whatever count claims. */
    if (count > (len - TREE_HEADER) / (ENTRY_FIXED + 1))
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: %u entries cannot fit in %zu bytes", count,
                                len);
    t->entries = mlops__calloc(count ? count : 1, sizeof *t->entries);
    if (!t->entries)
        return mlops__error_oom();
    size_t off = TREE_HEADER;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < ENTRY_FIXED)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: truncated entry %u", i);
        const unsigned char *f = p + off;
        mlops__tree_entry *e = &t->entries[i];
        e->type = (mlops_data_type)f[0];
        e->flags = f[1];
        e->name_len = (size_t)f[2] | ((size_t)f[3] << 8);
        e->target_len = mlops__get_le32(f + 4);
        e->size = mlops__get_le64(f + 8);
        e->files = mlops__get_le64(f + 16);
        memcpy(e->id.id, f + 24, MLOPS_OID_RAWSZ);
        off += ENTRY_FIXED;
        if (e->name_len > len - off || e->target_len > len - off - e->name_len)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: entry %u runs past the end", i);
        e->name = (const char *)p + off;
        off += e->name_len;
        e->target = e->target_len ? (const char *)p + off : NULL;
        off += e->target_len;
    }
    if (off != len)
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: %zu trailing bytes", len - off);
    t->count = count;
    return 0;
}

static int links_match(const mlops__tree *t, const unsigned char *links, size_t nlinks)
{
    size_t k = 0;
    for (size_t i = 0; i < t->count; i++) {
        const mlops__tree_entry *e = &t->entries[i];
        if (!has_link(e))
            continue;
        if (k >= nlinks || memcmp(links + k * MLOPS_OID_RAWSZ, e->id.id, MLOPS_OID_RAWSZ) != 0)
            return mlops__error_set(MLOPS_EINVALID, "invalid manifest: links section disagrees with entry '%.*s'",
                                    (int)e->name_len, e->name);
        k++;
    }
    if (k != nlinks)
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: %zu links for %zu linked entries", nlinks, k);
    return 0;
}

static int parse_owned(mlops__tree *t, const void *data, size_t len, unsigned depth)
{
    mlops__structured st;
    int rc = mlops__structured_parse(&st, data, len);
    if (rc < 0)
        return mlops__error_prefix(MLOPS_EINVALID, "not a manifest");
    if (st.type_len != strlen(MLOPS__TREE_TYPE) || memcmp(st.type, MLOPS__TREE_TYPE, st.type_len) != 0)
        return mlops__error_set(MLOPS_EINVALID, "not a manifest: object type '%.*s'", (int)st.type_len, st.type);
    MLOPS__TRY(body_decode(t, st.body, st.body_len));
    MLOPS__TRY(entries_check(t->entries, t->count, depth));
    MLOPS__TRY(links_match(t, st.links, st.nlinks));
    for (size_t i = 0; i < t->count; i++) {
        if (t->entries[i].type != MLOPS_DATA_SYMLINK)
            t->size += t->entries[i].size;
        t->files += t->entries[i].files;
    }
    return 0;
}

int mlops__tree_parse(mlops__tree *out, void *data, size_t len, unsigned depth)
{
    if (!out || (!data && len)) {
        mlops__free(data);
        return mlops__error_set(MLOPS_EINVALID, "tree_parse: NULL argument");
    }
    memset(out, 0, sizeof *out);
    out->data = data;
    int rc = parse_owned(out, data, len, depth);
    if (rc < 0)
        mlops__tree_dispose(out);
    return rc;
}

int mlops__tree_load(mlops__tree *out, mlops_store *store, const mlops_oid *id, unsigned depth)
{
    if (!out || !store || !id)
        return mlops__error_set(MLOPS_EINVALID, "tree_load: NULL argument");
    void *data = NULL;
    size_t len = 0;
    int rc = mlops__object_read_all(&data, &len, store, id);
    if (rc < 0)
        return rc;
    rc = mlops__tree_parse(out, data, len, depth);
    if (rc < 0)
        return mlops__error_prefix(rc, "manifest %s", mlops__hex(id).s);
    return 0;
}

const mlops__tree_entry *mlops__tree_find(const mlops__tree *t, const char *name, size_t len)
{
    size_t lo = 0, hi = t ? t->count : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const mlops__tree_entry *e = &t->entries[mid];
        int c = mlops__tree_name_cmp(e->name, e->name_len, name, len);
        if (c == 0)
            return e;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void mlops__tree_dispose(mlops__tree *t)
{
    if (!t)
        return;
    mlops__free(t->entries);
    mlops__free(t->data);
    memset(t, 0, sizeof *t);
}
