/* Internal: validation of ref and log names (rules in mlops/store.h). */
#ifndef MLOPS_LIB_STORE_REF_NAME_H
#define MLOPS_LIB_STORE_REF_NAME_H

/* 0 if valid; MLOPS_EINVALID with a message naming what (kind: "ref",
 * "log") and why otherwise. */
int mlops__name_check(const char *name, const char *kind);
/* A prefix for listing: NULL, "", or a name-like string that may end in '/'. */
int mlops__prefix_check(const char *prefix, const char *kind);

#endif
