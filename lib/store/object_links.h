/* Internal: the objects an object links to (object_links.c). */
#ifndef MLOPS_LIB_STORE_OBJECT_LINKS_H
#define MLOPS_LIB_STORE_OBJECT_LINKS_H

#include "mlops/store.h"

/* Called per link; a negative return stops the walk with that code. */
typedef int (*mlops__link_cb)(void *payload, const mlops_oid *link);

/*
 * Calls cb for each chunk of id if it is chunked, and for each link id
 * declares if it is a structured object. A chunk index or a structured
 * object that does not verify is an error (its real links are unknown);
 * one that verifies but does not parse is a user's file that merely starts
 * with the magic: it links to nothing. MLOPS_ENOTFOUND if id is missing.
 */
int mlops__object_foreach_link(mlops_store *s, const mlops_oid *id, mlops__link_cb cb, void *payload);

/*
 * Refreshes an existing object and everything it links to, transitively,
 * for gc's grace period, as storing them again would (without writing):
 * what someone is about to reference stays, even if a gc running now
 * listed it as old. Does nothing when root was written less than
 * min_age_seconds ago (it was just stored, and so were its links), or on
 * a custom backend (it has no way to refresh without rewriting). Errors:
 * MLOPS_ENOTFOUND naming a missing object (gc got there first), and the
 * backend's.
 */
int mlops__object_refresh(mlops_store *s, const mlops_oid *root, int64_t min_age_seconds);

#endif
