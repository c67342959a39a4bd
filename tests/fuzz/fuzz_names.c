/*
 * Fuzz target: ref name validation and object id hex parsing.
 *
 * Oracles: a name the library accepts obeys every rule of store.h; a
 * plain name ([A-Za-z0-9_.-] components) that obeys them is accepted;
 * hex parsing accepts exactly 64 hex digits and round-trips; a valid
 * name works as a ref and as a log name in a memory store.
 */
#include <ctype.h>

#include "fuzz_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The rules of include/mlops/store.h, written independently. */
static int oracle_name(const char *name, int *plain)
{
    size_t len = strlen(name), start = 0;
    *plain = 1;
    if (len == 0 || len > MLOPS_REF_NAME_MAX)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (i < len && (c < 0x20 || c == 0x7f))
            return 0;
        if (i < len && !(isalnum(c) || c == '_' || c == '.' || c == '-' || c == '/'))
            *plain = 0;
        if (i == len || c == '/') {
            size_t clen = i - start;
            const char *comp = name + start;
            if (clen == 0)
                return 0; /* empty component, leading or trailing '/' */
            if (comp[0] == '.')
                return 0; /* ".", "..", hidden */
            if (clen >= 5 && memcmp(comp + clen - 5, ".lock", 5) == 0)
                return 0;
            start = i + 1;
        }
    }
    return 1;
}

static int is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void check_hex(const char *str, const uint8_t *data, size_t size)
{
    mlops_oid id, id2;
    char out[MLOPS_OID_HEXSZ + 1];
    size_t slen = strlen(str);
    int want = slen == MLOPS_OID_HEXSZ, rc;
    for (size_t i = 0; want && i < slen; i++)
        want = is_hex((unsigned char)str[i]);
    rc = mlops_oid_fromhex(&id, str);
    fuzz_check_rc(rc);
    if ((rc == 0) != want)
        abort();
    if (rc == 0) {
        if (rc != 0 || mlops_oid_tohex(out, &id) != 0)
            abort();
        for (size_t i = 0; i < MLOPS_OID_HEXSZ; i++)
            if (out[i] != tolower((unsigned char)str[i]))
                abort();
        if (out[MLOPS_OID_HEXSZ] != 0)
            abort();
        if (mlops_oid_fromhex(&id2, out) != 0 || mlops_oid_cmp(&id, &id2) != 0)
            abort();
    } else if (rc != MLOPS_EINVALID) {
        abort();
    }

    /* Length-delimited variant on the raw bytes (may contain NULs). */
    want = size == MLOPS_OID_HEXSZ;
    for (size_t i = 0; want && i < size; i++)
        want = is_hex(data[i]);
    rc = mlops_oid_fromhexn(&id2, (const char *)data, size);
    fuzz_check_rc(rc);
    if ((rc == 0) != want)
        abort();
}

static int ref_cb(const char *name, const mlops_oid *id, void *payload)
{
    (void)id;
    if (strcmp(name, (const char *)payload) != 0)
        abort();
    return 0;
}

static void check_name(const char *name)
{
    int plain, expect = oracle_name(name, &plain);
    int valid = mlops_ref_name_is_valid(name);
    mlops_store *m = NULL;
    mlops_oid id, got;
    int rc;

    if (valid != 0 && valid != 1)
        abort();
    if (valid && !expect)
        abort(); /* accepted a name store.h forbids */
    if (!valid && expect && plain)
        abort(); /* refused an ordinary, valid name */
    if (!valid && mlops_error_last()[0] == 0)
        abort(); /* refusal without a message */

    if (mlops_store_open_memory(&m, NULL) != 0)
        abort();
    if (mlops_object_put(&id, m, "x", 1) != 0)
        abort();
    rc = mlops_ref_get(&got, m, name);
    if (rc != (valid ? MLOPS_ENOTFOUND : MLOPS_EINVALID))
        abort();
    rc = mlops_ref_set(m, name, &id, NULL);
    if (rc != (valid ? 0 : MLOPS_EINVALID))
        abort();
    if (valid) {
        if (mlops_ref_get(&got, m, name) != 0 || mlops_oid_cmp(&got, &id) != 0)
            abort();
        if (mlops_ref_foreach(m, name, ref_cb, (void *)name) != 0)
            abort();
        if (mlops_log_append(m, name, name, strlen(name)) != 0)
            abort();
        if (mlops_ref_delete(m, name, &id) != 0)
            abort();
    } else {
        if (mlops_log_append(m, name, "x", 1) != MLOPS_EINVALID)
            abort();
        if (mlops_ref_delete(m, name, NULL) != MLOPS_EINVALID)
            abort();
    }
    mlops_store_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *str;
    fuzz_init();
    str = (char *)malloc(size + 1);
    if (!str)
        return 0;
    memcpy(str, data, size);
    str[size] = 0;
    check_hex(str, data, size);
    if (size <= 2 * MLOPS_REF_NAME_MAX)
        check_name(str);
    free(str);
    return 0;
}
