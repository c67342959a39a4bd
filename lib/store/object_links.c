/*
 * The objects an object links to: the chunks of a chunked object and the
 * links a structured object declares (gc's marking and refreshing a
 * closure both follow them).
 */
#include <string.h>

#include "chunked.h"
#include "common/alloc.h"
#include "common/error.h"
#include "object_io.h"
#include "object_links.h"
#include "structured.h"

int mlops__object_foreach_link(mlops_store *s, const mlops_oid *id, mlops__link_cb cb, void *payload)
{
    unsigned char head[MLOPS__STRUCT_FIXED];
    size_t n = 0;
    int rc = mlops__chunked_foreach(s, id, cb, payload);
    if (rc < 0 && rc != MLOPS_ENOTFOUND)
        return rc;
    rc = mlops__object_peek(head, sizeof head, &n, s, id);
    if (rc < 0 && rc != MLOPS_ECORRUPT)
        return rc;
    if (!mlops__structured_is(head, n))
        return 0;
    void *data = NULL;
    size_t len = 0;
    MLOPS__TRY(mlops__object_read_all(&data, &len, s, id));
    mlops__structured sobj;
    if (mlops__structured_parse(&sobj, data, len) < 0)
        sobj.nlinks = 0;
    for (size_t i = 0; rc >= 0 && i < sobj.nlinks; i++) {
        mlops_oid link;
        memcpy(link.id, sobj.links + i * MLOPS_OID_RAWSZ, MLOPS_OID_RAWSZ);
        rc = cb(payload, &link);
    }
    mlops__free(data);
    return rc < 0 ? rc : 0;
}
