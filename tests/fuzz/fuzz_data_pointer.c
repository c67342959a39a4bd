/*
 * Fuzz target: the two dataset decoders of lib/data — pointer files
 * (pointer.c) and version records (version_record.c).
 *
 * Input: [ctl byte][rest].
 *  ctl bit 0 clear: rest is a pointer file's text.
 *  ctl bit 0 set:   rest is [link count byte][32-byte links…][record body],
 *                   wrapped as a structured object of type data.version.
 * Oracles: the only failures are MLOPS_EINVALID (and EUNSUPPORTED for a
 * record of a newer body version, ENOMEM); an accepted pointer file is the
 * writer's output up to the order of its key lines; an accepted record
 * encodes back to exactly the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "data/version_record.h"
#include "fuzz_backend.h"
#include "store/structured.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct lines {
    const char *at[16];
    size_t len[16];
    size_t n;
} lines;

/* Splits LF-terminated text into at most 16 lines; 0 if it does not fit. */
static int split(lines *l, const char *s, size_t len)
{
    l->n = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(s + off, '\n', len - off);
        if (!nl || l->n == 16)
            return 0;
        l->at[l->n] = s + off;
        l->len[l->n++] = (size_t)(nl - (s + off));
        off = (size_t)(nl - s) + 1;
    }
    return 1;
}

/* 1 if both texts have the same first line and the same other lines in
 * any order (each used once). */
static int same_lines(const char *a, size_t alen, const char *b, size_t blen)
{
    lines la, lb;
    if (!split(&la, a, alen) || !split(&lb, b, blen) || la.n != lb.n || la.n == 0)
        return 0;
    if (la.len[0] != lb.len[0] || memcmp(la.at[0], lb.at[0], la.len[0]) != 0)
        return 0;
    int used[16] = { 0 };
    for (size_t i = 1; i < la.n; i++) {
        size_t j = 1;
        while (j < lb.n && (used[j] || lb.len[j] != la.len[i] || memcmp(lb.at[j], la.at[i], la.len[i]) != 0))
            j++;
        if (j == lb.n)
            return 0;
        used[j] = 1;
    }
    return 1;
}

static void fuzz_pointer(const char *text, size_t len)
{
    mlops_data_version *v = NULL;
    int rc = mlops__data_pointer_parse(&v, text, len, "fuzz");
    fuzz_check_rc(rc);
    if (rc != 0 && rc != MLOPS_EINVALID && rc != MLOPS_ENOMEM)
        abort();
    if (rc != 0)
        return;
    if (!v->message || !v->user || (v->dataset != NULL) != (v->version != 0))
        abort();
    mlops__buf out = MLOPS__BUF_INIT;
    rc = mlops__data_pointer_format(&out, v);
    if (rc == MLOPS_ENOMEM)
        goto done;
    if (rc != 0)
        abort(); /* parsed but the writer refuses it: the two disagree */
    if (!same_lines(text, len, out.ptr, out.len))
        abort(); /* accepted something the writer would not write */
done:
    mlops__buf_dispose(&out);
    mlops_data_version_free(v);
}

static void fuzz_record(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    size_t nlinks = data[0];
    if (size - 1 < nlinks * MLOPS_OID_RAWSZ)
        return;
    mlops_oid links[256];
    for (size_t i = 0; i < nlinks; i++)
        memcpy(links[i].id, data + 1 + i * MLOPS_OID_RAWSZ, MLOPS_OID_RAWSZ);
    const uint8_t *body = data + 1 + nlinks * MLOPS_OID_RAWSZ;
    size_t body_len = size - 1 - nlinks * MLOPS_OID_RAWSZ;
    mlops__buf whole = MLOPS__BUF_INIT, again = MLOPS__BUF_INIT, b2 = MLOPS__BUF_INIT;
    if (mlops__structured_encode(&whole, MLOPS__VERSION_TYPE, links, nlinks, body, body_len) != 0)
        abort();
    mlops_data_version *v = NULL;
    int rc = mlops__version_record_parse(&v, whole.ptr, whole.len);
    fuzz_check_rc(rc);
    if (rc != 0 && rc != MLOPS_EINVALID && rc != MLOPS_EUNSUPPORTED && rc != MLOPS_ENOMEM)
        abort();
    if (rc == 0) {
        mlops_oid l2[2];
        size_t n2 = 0;
        if (mlops__version_record_encode(l2, &n2, &b2, v) != 0)
            abort();
        if (mlops__structured_encode(&again, MLOPS__VERSION_TYPE, l2, n2, b2.ptr, b2.len) != 0)
            abort();
        if (again.len != whole.len || memcmp(again.ptr, whole.ptr, whole.len) != 0)
            abort(); /* not canonical */
        fuzz_touch(v->dataset, strlen(v->dataset));
        fuzz_touch(v->message, strlen(v->message));
        fuzz_touch(v->user, strlen(v->user));
    }
    mlops_data_version_free(v);
    mlops__buf_dispose(&whole);
    mlops__buf_dispose(&again);
    mlops__buf_dispose(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_record(data + 1, size - 1);
    else
        fuzz_pointer((const char *)data + 1, size - 1);
    return 0;
}
