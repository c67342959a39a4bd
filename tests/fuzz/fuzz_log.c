/*
 * Fuzz target: parsing log segments (record framing, checksums, torn
 * tails) as read from a backend.
 *
 * Input: [ctl][segment bytes...]
 *   ctl & 0x0f        read granularity of the backend (0: whole buffers)
 *   (ctl >> 4) & 3    number of extra segments with the same bytes
 * Iteration must end (ITEROVER or an error code), every record delivered
 * must lie inside the segment bytes, and foreach must agree with the
 * iterator.
 */
#include "fuzz_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct count {
    size_t n;
    uint64_t bytes;
} count;

static int count_cb(const void *rec, size_t len, void *payload)
{
    count *c = (count *)payload;
    if (len && !rec)
        abort();
    fuzz_touch(rec, len);
    c->n++;
    c->bytes += len;
    return 0;
}

static int stop_cb(const void *rec, size_t len, void *payload)
{
    (void)rec, (void)len, (void)payload;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_src src;
    mlops_store *s;
    mlops_log_iterator *it = NULL;
    count viait = {0, 0}, viacb = {0, 0};
    mlops_verify_report rep;
    int rc;

    fuzz_init();
    if (size < 1)
        return 0;
    memset(&src, 0, sizeof src);
    src.data = data + 1;
    src.len = size - 1;
    src.chunk = data[0] & 0x0f;
    src.has_log = 1;
    src.nsegments = 1 + ((data[0] >> 4) & 3);
    s = fuzz_store_open(&src);

    rc = mlops_log_iterator_new(&it, s, FUZZ_LOG_NAME);
    fuzz_check_rc(rc);
    if (rc == 0) {
        const void *rec;
        size_t len;
        /* A record is at least one framing byte, so more records than
         * input bytes means the parser loops. */
        while ((rc = mlops_log_iterator_next(&rec, &len, it)) == 0) {
            count_cb(rec, len, &viait);
            if (viait.n > (size + 1) * (size_t)src.nsegments)
                abort();
            if (len > src.len)
                abort();
        }
        fuzz_check_rc(rc);
        mlops_log_iterator_free(it);
    }
    rc = mlops_log_foreach(s, FUZZ_LOG_NAME, count_cb, &viacb);
    fuzz_check_rc(rc);
    if (rc == 0 && (viacb.n != viait.n || viacb.bytes != viait.bytes))
        abort(); /* two readers of the same bytes disagree */
    rc = mlops_log_foreach(s, FUZZ_LOG_NAME, stop_cb, NULL);
    if (rc != 0 && rc != MLOPS_EUSER)
        fuzz_check_rc(rc);
    if (rc == 0 && viacb.n != 0)
        abort(); /* a callback's non-zero return must stop the walk */

    memset(&rep, 0, sizeof rep);
    rc = mlops_store_verify(&rep, s, NULL, NULL);
    fuzz_check_rc(rc);
    if (rc == 0)
        mlops_verify_report_free(&rep);
    mlops_store_free(s);
    return 0;
}
