/*
 * Fuzz target: the data manifest parser (lib/data/manifest.c).
 *
 * Input: [depth byte][link count byte][32-byte links…][manifest body].
 * Oracles: parsing gives 0 or MLOPS_EINVALID and nothing else (ENOMEM
 * aside); a manifest that parses is canonical — encoding its entries again
 * gives back exactly the same links and body — and its every entry passes
 * the checks checkout relies on (valid name, target inside the tree).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "data/data_internal.h"
#include "store/structured.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned depth = data[0] & 7;
    size_t nlinks = data[1];
    if (size - 2 < nlinks * MLOPS_OID_RAWSZ)
        return 0;
    const uint8_t *links_raw = data + 2;
    const uint8_t *body = links_raw + nlinks * MLOPS_OID_RAWSZ;
    size_t body_len = size - 2 - nlinks * MLOPS_OID_RAWSZ;
    mlops_oid *links = calloc(nlinks ? nlinks : 1, sizeof *links);
    if (!links)
        abort();
    for (size_t i = 0; i < nlinks; i++)
        memcpy(links[i].id, links_raw + i * MLOPS_OID_RAWSZ, MLOPS_OID_RAWSZ);

    mlops__buf whole = MLOPS__BUF_INIT;
    if (mlops__structured_encode(&whole, MLOPS__TREE_TYPE, links, nlinks, body, body_len) != 0)
        abort();
    size_t whole_len = 0;
    void *bytes = mlops__buf_detach(&whole, &whole_len);
    mlops__tree t;
    int rc = mlops__tree_parse(&t, bytes, whole_len, depth);
    if (rc != 0 && rc != MLOPS_EINVALID && rc != MLOPS_ENOMEM)
        abort();
    if (rc == 0) {
        mlops_oid *l2 = NULL;
        size_t n2 = 0;
        mlops__buf b2 = MLOPS__BUF_INIT;
        if (mlops__tree_encode(&l2, &n2, &b2, t.entries, t.count, depth) != 0)
            abort(); /* parsed but not encodable: the two disagree on the rules */
        if (b2.len != body_len || memcmp(b2.ptr, body, body_len) != 0)
            abort(); /* not canonical */
        if (n2 != nlinks || (nlinks && memcmp(l2, links, nlinks * sizeof *links) != 0))
            abort();
        for (size_t i = 0; i < t.count; i++) {
            const mlops__tree_entry *e = &t.entries[i];
            if (mlops__data_name_check(e->name, e->name_len) != 0)
                abort();
            if (e->type == MLOPS_DATA_SYMLINK && mlops__data_link_target_check(e->target, e->target_len, depth) != 0)
                abort();
        }
        mlops__free(l2);
        mlops__buf_dispose(&b2);
        mlops__tree_dispose(&t);
    }
    free(links);
    return 0;
}
