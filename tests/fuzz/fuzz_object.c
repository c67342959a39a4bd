/*
 * Fuzz target: decoding a physical object blob (header, raw or zlib
 * payload, structured sections) as read from a backend.
 *
 * Input: [ctl][32-byte id][blob...]
 *   ctl & 0x0f  read granularity of the backend (0: whole buffers)
 *   ctl & 0x10  also treat blob as the LOGICAL bytes of an object: put it
 *               into a memory store and decode it as a structured object
 * Every call must return a code (never crash, never return bytes that do
 * not hash to the id).
 */
#include "fuzz_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_get(mlops_store *s, const mlops_oid *id)
{
    void *out = NULL;
    size_t len = 0;
    int rc = mlops_object_get(&out, &len, s, id);
    fuzz_check_rc(rc);
    if (rc == 0) {
        mlops_oid h;
        mlops_oid_hash(&h, out, len);
        if (mlops_oid_cmp(&h, id) != 0)
            abort(); /* wrong bytes delivered */
        if (((const char *)out)[len] != 0)
            abort(); /* the promised trailing NUL */
        mlops_free(out);
    } else if (out) {
        abort(); /* a failed get must deliver nothing */
    }
}

static void check_structured(mlops_store *s, const mlops_oid *id)
{
    char *type = NULL;
    mlops_oid *links = NULL;
    size_t nlinks = 0, body_len = 0;
    void *body = NULL;
    int rc = mlops_object_get_structured(&type, &links, &nlinks, &body, &body_len, s, id);
    fuzz_check_rc(rc);
    if (rc == 0) {
        if (!type || strlen(type) > MLOPS_TYPE_MAX)
            abort();
        if (nlinks && !links)
            abort();
        /* touch every byte so ASan sees a short allocation */
        fuzz_touch(links, nlinks * sizeof *links);
        if (body_len && !body)
            abort();
        fuzz_touch(body, body_len);
    }
    mlops_free(type);
    mlops_free(links);
    mlops_free(body);
    /* Only some outputs wanted. */
    rc = mlops_object_get_structured(NULL, NULL, NULL, NULL, NULL, s, id);
    fuzz_check_rc(rc);
}

static void check_reader(mlops_store *s, const mlops_oid *id, size_t cap)
{
    mlops_object_reader *r = NULL;
    unsigned char buf[4096];
    uint64_t total = 0, size;
    mlops_oid h;
    int rc = mlops_object_reader_open(&r, s, id);
    fuzz_check_rc(rc);
    if (rc != 0)
        return;
    size = mlops_object_reader_size(r);
    for (int guard = 0;; guard++) {
        size_t n = 0;
        if (guard > (1 << 22))
            abort(); /* a reader that never ends */
        rc = mlops_object_reader_read(&n, r, buf, cap);
        fuzz_check_rc(rc);
        if (rc != 0)
            break;
        if (n > cap)
            abort();
        if (n == 0) {
            /* A clean end: exactly the announced size, and (the hash was
             * verified) only possible for the right bytes. */
            if (total != size)
                abort();
            break;
        }
        total += n;
    }
    (void)h;
    mlops_object_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_src src;
    mlops_store *s;
    uint64_t sz = 0;
    mlops_verify_report rep;
    unsigned ctl;

    fuzz_init();
    if (size < 1 + MLOPS_OID_RAWSZ)
        return 0;
    ctl = data[0];
    memset(&src, 0, sizeof src);
    memcpy(src.id.id, data + 1, MLOPS_OID_RAWSZ);
    src.data = data + 1 + MLOPS_OID_RAWSZ;
    src.len = size - 1 - MLOPS_OID_RAWSZ;
    src.chunk = ctl & 0x0f;
    src.has_object = 1;
    s = fuzz_store_open(&src);

    fuzz_check_rc(mlops_object_exists(s, &src.id));
    fuzz_check_rc(mlops_object_size(&sz, s, &src.id));
    check_get(s, &src.id);
    check_structured(s, &src.id);
    check_reader(s, &src.id, (ctl & 0x20) ? 7 : 4096);
    memset(&rep, 0, sizeof rep);
    if (mlops_store_verify(&rep, s, NULL, NULL) == 0) {
        if (rep.objects != 1)
            abort();
        mlops_verify_report_free(&rep);
    }
    mlops_store_free(s);

    if (ctl & 0x10) {
        /* The blob as logical bytes: a structured decode after a good hash. */
        mlops_store *m = NULL;
        mlops_oid id;
        if (mlops_store_open_memory(&m, NULL) != 0)
            abort();
        if (mlops_object_put(&id, m, src.data, src.len) != 0)
            abort();
        check_structured(m, &id);
        check_get(m, &id);
        mlops_store_free(m);
    }
    return 0;
}
