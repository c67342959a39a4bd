/*
 * Logs: framed, checksummed, append-only record streams. The front end
 * frames; the backend appends each frame to this writer's own segment with
 * one call, so concurrent writers never interleave bytes.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "log_frame.h"
#include "log_internal.h"
#include "name_list.h"
#include "ref_name.h"
#include "store_internal.h"

#define READ_BLOCK ((size_t)1 << 20)

int mlops_log_append_batch(mlops_store *s, const char *name, const void *const *records, const size_t *lens,
                           size_t n)
{
    if ((!records || !lens) && n)
        return mlops__error_set(MLOPS_EINVALID, "log_append: NULL argument");
    MLOPS__TRY(mlops__store_check_writable(s));
    MLOPS__TRY(mlops__name_check(name, "log"));
    for (size_t i = 0; i < n; i++)
        if (!records[i] && lens[i])
            return mlops__error_set(MLOPS_EINVALID, "log_append: record %zu is NULL", i);
    if (n == 0)
        return 0;
    mlops__buf frame = MLOPS__BUF_INIT;
    int rc = mlops__frame_encode(&frame, records, lens, n);
    if (rc == 0)
        rc = s->be.log_append(&s->be, name, frame.ptr, frame.len);
    mlops__buf_dispose(&frame);
    return rc;
}

int mlops_log_append(mlops_store *s, const char *name, const void *record, size_t len)
{
    if (!record && len)
        return mlops__error_set(MLOPS_EINVALID, "log_append: NULL record");
    const void *recs[1] = { record ? record : "" };
    return mlops_log_append_batch(s, name, recs, &len, 1);
}

int mlops_log_sync(mlops_store *s, const char *name)
{
    if (!s)
        return mlops__error_set(MLOPS_EINVALID, "log_sync: NULL store");
    MLOPS__TRY(mlops__name_check(name, "log"));
    /* Like mlops_store_sync: nothing of ours to make durable. */
    if (s->readonly || s->opts.durability == MLOPS_DURABILITY_NONE)
        return 0;
    /* Records may name objects: those must be durable first. */
    MLOPS__TRY(s->be.sync(&s->be));
    return s->be.log_sync(&s->be, name);
}

/* ---- reading ---------------------------------------------------------- */

struct mlops_log_iterator {
    mlops_store *s;
    char *name;
    mlops__name_list segments;
    size_t seg;             /* index of the current segment */
    int seg_open;           /* reading segments.names[seg] */
    uint64_t offset;        /* segment offset of buf[0] */
    mlops__buf buf;         /* bytes read from the segment */
    size_t pos;             /* next unread byte in buf */
    int seg_eof;
    const unsigned char *payload; /* current frame's records */
    uint32_t payload_len;
    uint32_t left;          /* records left in the current frame */
    size_t rec_pos;
    uint64_t torn;
};

uint64_t mlops__log_iterator_torn(const mlops_log_iterator *it)
{
    return it->torn;
}

int mlops_log_iterator_new(mlops_log_iterator **out, mlops_store *s, const char *name)
{
    if (!out || !s)
        return mlops__error_set(MLOPS_EINVALID, "log_iterator_new: NULL argument");
    *out = NULL;
    MLOPS__TRY(mlops__name_check(name, "log"));
    mlops_log_iterator *it = mlops__calloc(1, sizeof *it);
    if (!it)
        return mlops__error_oom();
    it->s = s;
    it->name = mlops__strdup(name);
    int rc = it->name ? 0 : mlops__error_oom();
    if (rc == 0)
        rc = s->be.log_segments(&s->be, name, mlops__name_list_add, &it->segments);
    if (rc == MLOPS_ENOTFOUND)
        rc = mlops__error_set(MLOPS_ENOTFOUND, "log '%s' not found", name);
    if (rc < 0) {
        mlops_log_iterator_free(it);
        return rc;
    }
    mlops__name_list_sort(&it->segments);
    *out = it;
    return 0;
}

/* Makes at least n unread bytes available; *short_read set at segment end. */
static int ensure(mlops_log_iterator *it, size_t n, int *short_read)
{
    *short_read = 0;
    while (it->buf.len - it->pos < n) {
        if (it->seg_eof) {
            *short_read = 1;
            return 0;
        }
        if (it->pos > 0) { /* drop consumed bytes */
            size_t keep = it->buf.len - it->pos;
            memmove(it->buf.ptr, it->buf.ptr + it->pos, keep);
            it->offset += it->pos;
            it->buf.len = keep;
            it->pos = 0;
        }
        /* Never trust a length read from the segment for allocation: grow
         * by what is actually there, one block at a time. */
        size_t want = READ_BLOCK;
        MLOPS__TRY(mlops__buf_grow(&it->buf, want));
        size_t got = 0;
        MLOPS__TRY(it->s->be.log_read(&it->s->be, it->name, it->segments.names[it->seg],
                                      it->offset + it->buf.len, it->buf.ptr + it->buf.len, want, &got));
        if (got == 0)
            it->seg_eof = 1;
        it->buf.len += got;
    }
    return 0;
}

static void end_segment(mlops_log_iterator *it, int torn)
{
    it->torn += torn ? 1 : 0;
    it->seg_open = 0;
    it->seg++;
}

/* Loads the next valid frame of the current segment; 1 if one was loaded. */
static int next_frame(mlops_log_iterator *it)
{
    int short_read = 0;
    uint32_t plen = 0, count = 0;
    it->pos += it->payload ? it->payload_len + MLOPS__FRAME_HDR : 0;
    it->payload = NULL;
    MLOPS__TRY(ensure(it, MLOPS__FRAME_HDR, &short_read));
    if (short_read) {
        end_segment(it, it->buf.len != it->pos);
        return 0;
    }
    const unsigned char *hdr = (const unsigned char *)it->buf.ptr + it->pos;
    if (mlops__frame_header(hdr, &plen, &count) < 0) {
        end_segment(it, 1);
        return 0;
    }
    MLOPS__TRY(ensure(it, MLOPS__FRAME_HDR + (size_t)plen, &short_read));
    hdr = (const unsigned char *)it->buf.ptr + it->pos; /* buf may have moved */
    if (short_read || mlops__frame_check(hdr, hdr + MLOPS__FRAME_HDR, plen, count) < 0) {
        end_segment(it, 1);
        return 0;
    }
    it->payload = hdr + MLOPS__FRAME_HDR;
    it->payload_len = plen;
    it->left = count;
    it->rec_pos = 0;
    return 1;
}

static void open_segment(mlops_log_iterator *it)
{
    it->seg_open = 1;
    it->seg_eof = 0;
    it->offset = 0;
    it->pos = 0;
    it->payload = NULL;
    it->left = 0;
    mlops__buf_clear(&it->buf);
}

int mlops_log_iterator_next(const void **record, size_t *len, mlops_log_iterator *it)
{
    if (!record || !len || !it)
        return mlops__error_set(MLOPS_EINVALID, "log_iterator_next: NULL argument");
    while (it->left == 0) {
        if (!it->seg_open) {
            if (it->seg >= it->segments.len)
                return MLOPS_ITEROVER;
            open_segment(it);
        }
        int rc = next_frame(it);
        if (rc < 0)
            return rc;
    }
    mlops__frame_record(it->payload, &it->rec_pos, record, len);
    it->left--;
    return 0;
}

void mlops_log_iterator_free(mlops_log_iterator *it)
{
    if (!it)
        return;
    mlops__name_list_dispose(&it->segments);
    mlops__buf_dispose(&it->buf);
    mlops__free(it->name);
    mlops__free(it);
}

int mlops_log_foreach(mlops_store *s, const char *name, mlops_log_cb cb, void *payload)
{
    if (!cb)
        return mlops__error_set(MLOPS_EINVALID, "log_foreach: NULL callback");
    mlops_log_iterator *it = NULL;
    MLOPS__TRY(mlops_log_iterator_new(&it, s, name));
    const void *rec;
    size_t len;
    int rc;
    while ((rc = mlops_log_iterator_next(&rec, &len, it)) == 0) {
        if (cb(rec, len, payload) != 0) {
            rc = mlops__error_set(MLOPS_EUSER, "log walk stopped by the callback");
            break;
        }
    }
    mlops_log_iterator_free(it);
    return rc == MLOPS_ITEROVER ? 0 : rc;
}

int mlops_log_list(mlops_store *s, const char *prefix, mlops_log_name_cb cb, void *payload)
{
    if (!s || !cb)
        return mlops__error_set(MLOPS_EINVALID, "log_list: NULL argument");
    MLOPS__TRY(mlops__prefix_check(prefix, "log"));
    mlops__name_list names = { NULL, 0, 0 };
    int rc = s->be.log_foreach(&s->be, prefix ? prefix : "", mlops__name_list_add, &names);
    if (rc == 0)
        mlops__name_list_sort(&names);
    size_t plen = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; rc == 0 && i < names.len; i++) {
        if (plen && strncmp(names.names[i], prefix, plen) != 0)
            continue;
        if (cb(names.names[i], payload) != 0)
            rc = mlops__error_set(MLOPS_EUSER, "log listing stopped by the callback");
    }
    mlops__name_list_dispose(&names);
    return rc;
}
