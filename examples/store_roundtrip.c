/*
 * store_roundtrip: store a file in a libmlops store, print its id, point a
 * ref at it, restore it to another path and check that the bytes are equal.
 *
 *   store_roundtrip [FILE [STORE_DIR [RESTORED_PATH]]]
 *
 * Defaults: the breast cancer table shipped in examples/data/, a store in
 * ./mlops-example-store and ./breast_cancer.restored.csv.
 * Build: cc store_roundtrip.c $(pkg-config --cflags --libs libmlops)
 */
#include <stdio.h>
#include <string.h>

#include <mlops.h>

#ifndef EXAMPLE_DATA
#define EXAMPLE_DATA "examples/data/breast_cancer.csv"
#endif

/* Prints a failed call with the library's one-line reason and returns 1. */
static int fail(const char *what, int rc)
{
    fprintf(stderr, "store_roundtrip: %s: %s (%s)\n", what, mlops_error_last(), mlops_error_name(rc));
    return 1;
}

/* 1 if the two files have the same bytes, 0 if not, -1 if unreadable. */
static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    char ba[65536], bb[65536];
    size_t na, nb;
    int same = -1;

    if (fa && fb) {
        do {
            na = fread(ba, 1, sizeof(ba), fa);
            nb = fread(bb, 1, sizeof(bb), fb);
            same = na == nb && memcmp(ba, bb, na) == 0;
        } while (same && na > 0);
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

int main(int argc, char **argv)
{
    const char *file = argc > 1 ? argv[1] : EXAMPLE_DATA;
    const char *store_dir = argc > 2 ? argv[2] : "mlops-example-store";
    const char *restored = argc > 3 ? argv[3] : "breast_cancer.restored.csv";
    const char *ref = "examples/breast_cancer";
    mlops_store *store = NULL;
    mlops_oid id, old;
    char hex[MLOPS_OID_HEXSZ + 1];
    uint64_t size = 0;
    int rc, status = 1;

    /* Opens (and creates if needed) the store; NULL options = defaults:
     * durability COMMIT, compression AUTO. */
    if ((rc = mlops_store_open(&store, store_dir, NULL)) != 0)
        return fail("open store", rc);

    /* The id is the SHA-256 of the file: equal to `sha256sum FILE`. */
    if ((rc = mlops_object_put_file(&id, store, file)) != 0) {
        fail("put_file", rc);
        goto done;
    }
    mlops_oid_tohex(hex, &id);
    if ((rc = mlops_object_size(&size, store, &id)) != 0) {
        fail("object_size", rc);
        goto done;
    }
    printf("stored %s (%llu bytes)\nid %s\n", file, (unsigned long long)size, hex);

    /* Name it with a ref: compare-and-swap against whatever it held before
     * (NULL: it must not exist yet). Updating a ref is a commit point, so the
     * object is durable once this returns. */
    rc = mlops_ref_get(&old, store, ref);
    if (rc != 0 && rc != MLOPS_ENOTFOUND) {
        fail("ref_get", rc);
        goto done;
    }
    if ((rc = mlops_ref_set(store, ref, &id, rc == 0 ? &old : NULL)) != 0) {
        fail("ref_set", rc);
        goto done;
    }
    printf("ref %s -> %s\n", ref, hex);

    /* Restore: the hash is verified before the file appears. */
    if ((rc = mlops_ref_get(&id, store, ref)) != 0 || (rc = mlops_object_get_file(store, &id, restored)) != 0) {
        fail("restore", rc);
        goto done;
    }
    if (same_file(file, restored) != 1) {
        fprintf(stderr, "store_roundtrip: %s differs from %s\n", restored, file);
        goto done;
    }
    printf("restored %s: identical\n", restored);
    status = 0;
done:
    mlops_store_free(store);
    return status;
}
