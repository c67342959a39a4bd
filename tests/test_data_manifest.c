/* Data manifests: name and symlink-target rules, the canonical encoding
 * (checked byte for byte against a hand-built vector), the strict parser
 * against hostile bodies, dataset names and tags. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "data/data_internal.h"
#include "testutil.h"

static mlops__tree_entry file_entry(const char *name, const char *content, unsigned flags)
{
    mlops__tree_entry e = { 0 };
    e.name = name;
    e.name_len = strlen(name);
    e.type = MLOPS_DATA_FILE;
    e.flags = flags;
    e.size = strlen(content);
    e.files = 1;
    ck_assert_int_eq(mlops_oid_hash(&e.id, content, strlen(content)), 0);
    return e;
}

static mlops__tree_entry link_entry(const char *name, const char *target)
{
    mlops__tree_entry e = { 0 };
    e.name = name;
    e.name_len = strlen(name);
    e.type = MLOPS_DATA_SYMLINK;
    e.size = strlen(target);
    e.target = target;
    e.target_len = strlen(target);
    ck_assert_int_eq(mlops_oid_hash(&e.id, target, strlen(target)), 0);
    return e;
}

START_TEST(entry_names)
{
    ck_assert_int_eq(mlops__data_name_check("a", 1), 0);
    ck_assert_int_eq(mlops__data_name_check(".hidden", 7), 0);
    ck_assert_int_eq(mlops__data_name_check("...", 3), 0);
    ck_assert_int_eq(mlops__data_name_check("caf\xc3\xa9 \xff", 7), 0); /* any byte but control ones */
    tu_assert_err(mlops__data_name_check("", 0), MLOPS_EINVALID);
    tu_assert_err(mlops__data_name_check(".", 1), MLOPS_EINVALID);
    tu_assert_err(mlops__data_name_check("..", 2), MLOPS_EINVALID);
    tu_assert_err(mlops__data_name_check("a/b", 3), MLOPS_EINVALID);
    tu_assert_err(mlops__data_name_check("a\0b", 3), MLOPS_EINVALID);
    tu_assert_err(mlops__data_name_check("a\nb", 3), MLOPS_EINVALID);
    tu_assert_err(mlops__data_name_check("\x7f", 1), MLOPS_EINVALID);
    tu_assert_err(mlops__data_name_check("\x1b[31m", 5), MLOPS_EINVALID);
    char big[257];
    memset(big, 'x', sizeof big);
    ck_assert_int_eq(mlops__data_name_check(big, 255), 0);
    tu_assert_err(mlops__data_name_check(big, 256), MLOPS_EINVALID);
    ck_assert_int_eq(mlops__data_name_has_control("ab\tc", 4), 1);
    ck_assert_int_eq(mlops__data_name_has_control("abc", 3), 0);
}
END_TEST

static int target_ok(const char *t, unsigned depth)
{
    return mlops__data_link_target_check(t, strlen(t), depth);
}

START_TEST(link_targets)
{
    ck_assert_int_eq(target_ok("a", 0), 0);
    ck_assert_int_eq(target_ok("a/b/c", 0), 0);
    ck_assert_int_eq(target_ok("./a", 0), 0);
    ck_assert_int_eq(target_ok(".", 0), 0);
    ck_assert_int_eq(target_ok("dir/", 0), 0);
    ck_assert_int_eq(target_ok("../x", 1), 0);
    ck_assert_int_eq(target_ok("../../x/y", 2), 0);
    ck_assert_int_eq(target_ok("..", 1), 0);
    tu_assert_err(target_ok("../x", 0), MLOPS_EINVALID);      /* climbs out of the root */
    tu_assert_err(target_ok("../../x", 1), MLOPS_EINVALID);
    tu_assert_err(target_ok("/etc/passwd", 5), MLOPS_EINVALID);
    tu_assert_err(target_ok("a/../b", 3), MLOPS_EINVALID);    /* '..' after a name */
    tu_assert_err(target_ok("d/..", 0), MLOPS_EINVALID);      /* d -> "." would climb out */
    tu_assert_err(target_ok("./../x", 0), MLOPS_EINVALID);
    tu_assert_err(target_ok("", 0), MLOPS_EINVALID);
    tu_assert_err(target_ok("a\nb", 0), MLOPS_EINVALID);
    tu_assert_err(mlops__data_link_target_check("a\0b", 3, 0), MLOPS_EINVALID);
    char *big = tu_xmalloc(4097);
    memset(big, 'a', 4097);
    ck_assert_int_eq(mlops__data_link_target_check(big, 4095, 0), 0);
    tu_assert_err(mlops__data_link_target_check(big, 4096, 0), MLOPS_EINVALID);
    free(big);
}
END_TEST

START_TEST(dataset_names_and_tags)
{
    ck_assert_int_eq(mlops__data_dataset_name_check("breast-cancer_v2.1"), 0);
    tu_assert_err(mlops__data_dataset_name_check(""), MLOPS_EINVALID);
    tu_assert_err(mlops__data_dataset_name_check(NULL), MLOPS_EINVALID);
    tu_assert_err(mlops__data_dataset_name_check("a/b"), MLOPS_EINVALID);
    tu_assert_err(mlops__data_dataset_name_check("a b"), MLOPS_EINVALID);
    tu_assert_err(mlops__data_dataset_name_check(".x"), MLOPS_EINVALID);
    tu_assert_err(mlops__data_dataset_name_check("-x"), MLOPS_EINVALID);
    tu_assert_err(mlops__data_dataset_name_check("a@1"), MLOPS_EINVALID);
    tu_assert_err(mlops__data_dataset_name_check("x.lock"), MLOPS_EINVALID);
    char big[130];
    memset(big, 'n', 129);
    big[129] = 0;
    tu_assert_err(mlops__data_dataset_name_check(big), MLOPS_EINVALID);
    big[128] = 0;
    ck_assert_int_eq(mlops__data_dataset_name_check(big), 0);
    ck_assert_int_eq(mlops__data_tag_check("v1"), 0);
    ck_assert_int_eq(mlops__data_tag_check("gold"), 0);
    tu_assert_err(mlops__data_tag_check("12"), MLOPS_EINVALID);
    tu_assert_err(mlops__data_tag_check("latest"), MLOPS_EINVALID);
    tu_assert_err(mlops__data_tag_check("a:b"), MLOPS_EINVALID);
}
END_TEST

/* The body, laid out by hand from docs/FORMAT.md, for two entries. */
static size_t expected_body(unsigned char *out, const mlops__tree_entry *e, size_t n)
{
    size_t off = 0;
    memset(out, 0, 8);
    out[0] = 1;
    out[4] = (unsigned char)n;
    off = 8;
    for (size_t i = 0; i < n; i++) {
        unsigned char *f = out + off;
        memset(f, 0, 56);
        f[0] = (unsigned char)e[i].type;
        f[1] = (unsigned char)e[i].flags;
        f[2] = (unsigned char)e[i].name_len;
        f[4] = (unsigned char)e[i].target_len;
        for (int b = 0; b < 8; b++) {
            f[8 + b] = (unsigned char)(e[i].size >> (8 * b));
            f[16 + b] = (unsigned char)(e[i].files >> (8 * b));
        }
        memcpy(f + 24, e[i].id.id, 32);
        off += 56;
        memcpy(out + off, e[i].name, e[i].name_len);
        off += e[i].name_len;
        if (e[i].target_len)
            memcpy(out + off, e[i].target, e[i].target_len);
        off += e[i].target_len;
    }
    return off;
}

START_TEST(encoding_is_canonical)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops__tree_entry e[3] = { link_entry("z-link", "b.txt"), file_entry("b.txt", "hello\n", 0),
                               file_entry("a.sh", "#!/bin/sh\n", MLOPS__TREE_EXEC) };
    mlops__tree_sort(e, 3);
    ck_assert_str_eq(e[0].name, "a.sh");
    ck_assert_str_eq(e[2].name, "z-link");

    mlops_oid *links = NULL;
    size_t nlinks = 0;
    mlops__buf body = MLOPS__BUF_INIT;
    ck_assert_int_eq(mlops__tree_encode(&links, &nlinks, &body, e, 3, 0), 0);
    unsigned char want[512];
    size_t wlen = expected_body(want, e, 3);
    ck_assert_uint_eq(body.len, wlen);
    ck_assert_int_eq(memcmp(body.ptr, want, wlen), 0);
    ck_assert_uint_eq(nlinks, 2); /* the two files, not the symlink */
    ck_assert_int_eq(mlops_oid_cmp(&links[0], &e[0].id), 0);
    ck_assert_int_eq(mlops_oid_cmp(&links[1], &e[1].id), 0);

    /* stored id == sha256sum of the stored bytes == the hash-only id */
    mlops_oid stored, hashed;
    ck_assert_int_eq(mlops__tree_put(&stored, t.s, e, 3, 0), 0);
    ck_assert_int_eq(mlops__tree_put(&hashed, NULL, e, 3, 0), 0);
    ck_assert_int_eq(mlops_oid_cmp(&stored, &hashed), 0);
    void *obj = NULL;
    size_t olen = 0;
    ck_assert_int_eq(mlops_object_get(&obj, &olen, t.s, &stored), 0);
    char hex[65], sum[65];
    tu_hex(&stored, hex);
    tu_sha256sum_buf(obj, olen, sum);
    ck_assert_str_eq(hex, sum);
    mlops_free(obj);

    mlops__tree tree;
    ck_assert_int_eq(mlops__tree_load(&tree, t.s, &stored, 0), 0);
    ck_assert_uint_eq(tree.count, 3);
    ck_assert_uint_eq(tree.size, strlen("hello\n") + strlen("#!/bin/sh\n"));
    ck_assert_uint_eq(tree.files, 2);
    const mlops__tree_entry *f = mlops__tree_find(&tree, "z-link", 6);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->type, MLOPS_DATA_SYMLINK);
    ck_assert_int_eq(memcmp(f->target, "b.txt", 5), 0);
    ck_assert_ptr_null(mlops__tree_find(&tree, "b.tx", 4));
    ck_assert_uint_eq(mlops__tree_find(&tree, "a.sh", 4)->flags, MLOPS__TREE_EXEC);
    mlops__tree_dispose(&tree);

    /* the empty directory has a manifest too */
    mlops_oid empty;
    ck_assert_int_eq(mlops__tree_put(&empty, t.s, NULL, 0, 0), 0);
    ck_assert_int_eq(mlops__tree_load(&tree, t.s, &empty, 0), 0);
    ck_assert_uint_eq(tree.count, 0);
    mlops__tree_dispose(&tree);

    mlops__free(links);
    mlops__buf_dispose(&body);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(encoder_refuses_bad_entries)
{
    mlops__tree_entry e[2] = { file_entry("b", "1", 0), file_entry("a", "2", 0) };
    mlops_oid out;
    tu_assert_err(mlops__tree_put(&out, NULL, e, 2, 0), MLOPS_EINVALID); /* unsorted */
    e[1] = file_entry("b", "2", 0);
    tu_assert_err(mlops__tree_put(&out, NULL, e, 2, 0), MLOPS_EINVALID); /* duplicate */
    e[0] = file_entry("..", "1", 0);
    tu_assert_err(mlops__tree_put(&out, NULL, e, 1, 0), MLOPS_EINVALID);
    e[0] = file_entry("x", "1", 0x2);
    tu_assert_err(mlops__tree_put(&out, NULL, e, 1, 0), MLOPS_EINVALID); /* unknown flag */
    e[0] = link_entry("l", "../out");
    tu_assert_err(mlops__tree_put(&out, NULL, e, 1, 0), MLOPS_EINVALID);
    ck_assert_int_eq(mlops__tree_put(&out, NULL, e, 1, 1), 0); /* fine one level down */
    e[0].id.id[0] ^= 1;
    tu_assert_err(mlops__tree_put(&out, NULL, e, 1, 1), MLOPS_EINVALID); /* id is not the target's hash */
    e[0] = file_entry("f", "abc", 0);
    e[0].files = 2;
    tu_assert_err(mlops__tree_put(&out, NULL, e, 1, 0), MLOPS_EINVALID);
    e[0] = file_entry("d", "", 0);
    e[0].type = (mlops_data_type)9;
    tu_assert_err(mlops__tree_put(&out, NULL, e, 1, 0), MLOPS_EINVALID);
}
END_TEST

/* Stores a hand-made manifest object and returns what loading it gives. */
static int load_crafted(mlops_store *s, const mlops_oid *links, size_t nlinks, const void *body, size_t len,
                        const char *type)
{
    mlops_oid id;
    ck_assert_int_eq(mlops_object_put_structured(&id, s, type, links, nlinks, body, len), 0);
    mlops__tree t;
    int rc = mlops__tree_load(&t, s, &id, 0);
    if (rc == 0)
        mlops__tree_dispose(&t);
    return rc;
}

START_TEST(parser_refuses_hostile_bodies)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    mlops__tree_entry e[1] = { file_entry("f", "abc", 0) };
    mlops_oid *links = NULL;
    size_t nlinks = 0;
    mlops__buf body = MLOPS__BUF_INIT;
    ck_assert_int_eq(mlops__tree_encode_unchecked(&links, &nlinks, &body, e, 1), 0);
    unsigned char *b = (unsigned char *)body.ptr;
    size_t len = body.len;
    ck_assert_int_eq(load_crafted(t.s, links, nlinks, b, len, "data.tree"), 0);

    unsigned char *c = tu_xmalloc(len + 16);
    /* truncated at every length */
    for (size_t cut = 0; cut < len; cut++)
        tu_assert_err(load_crafted(t.s, links, nlinks, b, cut, "data.tree"), MLOPS_EINVALID);
    /* trailing byte */
    memcpy(c, b, len);
    c[len] = 0;
    tu_assert_err(load_crafted(t.s, links, nlinks, c, len + 1, "data.tree"), MLOPS_EINVALID);
    /* version, reserved, huge count, name length past the end */
    size_t offs[] = { 0, 1, 5, 7, 8 + 3, 8 + 4 };
    for (size_t k = 0; k < sizeof offs / sizeof *offs; k++) {
        memcpy(c, b, len);
        c[offs[k]] ^= 0x80;
        tu_assert_err(load_crafted(t.s, links, nlinks, c, len, "data.tree"), MLOPS_EINVALID);
    }
    /* links section that disagrees (gc would not protect the file) */
    mlops_oid other = links[0];
    other.id[31] ^= 1;
    tu_assert_err(load_crafted(t.s, &other, 1, b, len, "data.tree"), MLOPS_EINVALID);
    tu_assert_err(load_crafted(t.s, NULL, 0, b, len, "data.tree"), MLOPS_EINVALID);
    /* another structured type, and an unstructured object */
    tu_assert_err(load_crafted(t.s, links, nlinks, b, len, "data.version"), MLOPS_EINVALID);
    mlops_oid plain = tu_put_str(t.s, "just bytes, no manifest");
    mlops__tree tree;
    tu_assert_err(mlops__tree_load(&tree, t.s, &plain, 0), MLOPS_EINVALID);
    mlops_oid missing = plain;
    missing.id[0] ^= 1;
    tu_assert_err(mlops__tree_load(&tree, t.s, &missing, 0), MLOPS_ENOTFOUND);

    free(c);
    mlops__free(links);
    mlops__buf_dispose(&body);
    tu_store_destroy(&t);
}
END_TEST

/* Every single-byte corruption of a valid body is either refused with
 * EINVALID or still a valid manifest: never a crash, never another code. */
START_TEST(parser_survives_every_byte_flip)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    mlops__tree_entry e[3] = { file_entry("a", "1", MLOPS__TREE_EXEC), link_entry("b", "a"),
                               file_entry("c", "22", 0) };
    mlops_oid *links = NULL;
    size_t nlinks = 0;
    mlops__buf body = MLOPS__BUF_INIT;
    ck_assert_int_eq(mlops__tree_encode(&links, &nlinks, &body, e, 3, 0), 0);
    unsigned char *c = tu_xmalloc(body.len);
    for (size_t i = 0; i < body.len; i++) {
        memcpy(c, body.ptr, body.len);
        c[i] ^= 0xff;
        int rc = load_crafted(t.s, links, nlinks, c, body.len, "data.tree");
        ck_assert_msg(rc == 0 || rc == MLOPS_EINVALID, "flip at %zu gave %d", i, rc);
    }
    free(c);
    mlops__free(links);
    mlops__buf_dispose(&body);
    tu_store_destroy(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_manifest");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, entry_names);
    tcase_add_test(tc, link_targets);
    tcase_add_test(tc, dataset_names_and_tags);
    tcase_add_loop_test(tc, encoding_is_canonical, 0, TU_KINDS);
    tcase_add_test(tc, encoder_refuses_bad_entries);
    tcase_add_test(tc, parser_refuses_hostile_bodies);
    tcase_add_test(tc, parser_survives_every_byte_flip);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
