/*
 * Fuzz target: the two decoders of lib/registry — model states
 * (state_codec.c) and version records (version_codec.c), whatever bytes an
 * attacker puts into the store and points a model's ref at.
 *
 * Input: [ctl byte][link count byte][32-byte links…][body], wrapped as a
 * structured object of type registry.state (ctl bit 0 clear) or
 * registry.version (set).
 * Oracles: the only failures are MLOPS_ECORRUPT (and EUNSUPPORTED for a
 * newer body version, ENOMEM); an accepted object encodes back to exactly
 * the same bytes (a state through its encoder; a record by storing it in a
 * memory store, whose id must be the SHA-256 of the input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "fuzz_backend.h"
#include "registry/registry_internal.h"
#include "store/structured.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(int rc)
{
    fuzz_check_rc(rc);
    if (rc != 0 && rc != MLOPS_ECORRUPT && rc != MLOPS_EUNSUPPORTED && rc != MLOPS_ENOMEM)
        abort();
}

static void fuzz_state(const mlops__buf *whole)
{
    mlops__reg_state st;
    memset(&st, 0, sizeof st);
    int rc = mlops__reg_state_parse(&st, whole->ptr, whole->len);
    check_failure(rc);
    if (rc == 0) {
        mlops_oid *links = NULL;
        size_t nlinks = 0;
        mlops__buf body = MLOPS__BUF_INIT, again = MLOPS__BUF_INIT;
        if (mlops__reg_state_encode(&links, &nlinks, &body, &st) != 0 ||
            mlops__structured_encode(&again, MLOPS__REG_STATE_TYPE, links, nlinks, body.ptr, body.len) != 0)
            abort();
        if (again.len != whole->len || memcmp(again.ptr, whole->ptr, whole->len) != 0)
            abort(); /* accepted but not canonical */
        fuzz_touch(st.name, strlen(st.name));
        fuzz_touch(st.description, strlen(st.description));
        mlops__free(links);
        mlops__buf_dispose(&body);
        mlops__buf_dispose(&again);
    }
    mlops__reg_state_dispose(&st);
}

static void fuzz_version(const mlops__buf *whole)
{
    mlops_registry_version *v = NULL;
    int rc = mlops__reg_version_parse(&v, whole->ptr, whole->len);
    check_failure(rc);
    if (rc == 0) {
        fuzz_touch(v->run_id, strlen(v->run_id));
        fuzz_touch(v->dataset, strlen(v->dataset));
        fuzz_touch(v->description, strlen(v->description));
        fuzz_touch(v->user, strlen(v->user));
        mlops_store *s = NULL;
        mlops_oid got, want;
        if (mlops_store_open_memory(&s, NULL) != 0 || mlops__reg_version_put(&got, s, v) != 0 ||
            mlops_oid_hash(&want, whole->ptr, whole->len) != 0)
            abort();
        if (mlops_oid_cmp(&got, &want) != 0)
            abort(); /* accepted but not canonical */
        mlops_store_free(s);
    }
    mlops_registry_version_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 2)
        return 0;
    size_t nlinks = data[1];
    if (size - 2 < nlinks * MLOPS_OID_RAWSZ)
        return 0;
    mlops_oid links[256];
    for (size_t i = 0; i < nlinks; i++)
        memcpy(links[i].id, data + 2 + i * MLOPS_OID_RAWSZ, MLOPS_OID_RAWSZ);
    const uint8_t *body = data + 2 + nlinks * MLOPS_OID_RAWSZ;
    size_t body_len = size - 2 - nlinks * MLOPS_OID_RAWSZ;
    int version = data[0] & 1;
    mlops__buf whole = MLOPS__BUF_INIT;
    if (mlops__structured_encode(&whole, version ? MLOPS__REG_VERSION_TYPE : MLOPS__REG_STATE_TYPE, links, nlinks,
                                 body, body_len) != 0) {
        mlops__buf_dispose(&whole);
        return 0; /* out of memory in the harness itself */
    }
    if (version)
        fuzz_version(&whole);
    else
        fuzz_state(&whole);
    mlops__buf_dispose(&whole);
    return 0;
}
