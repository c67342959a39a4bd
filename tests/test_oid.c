/* Object ids: hex parse/format, hashing, ordering. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define EMPTY_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/* FIPS 180-2 two-block vector */
#define TWO_BLOCK_MSG "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define TWO_BLOCK_HEX "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

START_TEST(roundtrip)
{
    mlops_oid id;
    char hex[65];
    ck_assert_int_eq(mlops_oid_fromhex(&id, ABC_HEX), 0);
    ck_assert_uint_eq(id.id[0], 0xba);
    ck_assert_uint_eq(id.id[1], 0x78);
    ck_assert_uint_eq(id.id[31], 0xad);
    memset(hex, 'x', sizeof hex);
    ck_assert_int_eq(mlops_oid_tohex(hex, &id), 0);
    ck_assert_uint_eq(hex[64], '\0');
    ck_assert_str_eq(hex, ABC_HEX);

    /* every byte value survives */
    for (int i = 0; i < MLOPS_OID_RAWSZ; i++)
        id.id[i] = (unsigned char)(i * 8 + 7);
    ck_assert_int_eq(mlops_oid_tohex(hex, &id), 0);
    mlops_oid back;
    ck_assert_int_eq(mlops_oid_fromhex(&back, hex), 0);
    ck_assert_mem_eq(back.id, id.id, MLOPS_OID_RAWSZ);
    ck_assert_int_eq(mlops_oid_cmp(&back, &id), 0);
    memset(id.id, 0xff, sizeof id.id);
    ck_assert_int_eq(mlops_oid_tohex(hex, &id), 0);
    ck_assert_str_eq(hex, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
}
END_TEST

START_TEST(uppercase_accepted)
{
    char up[65];
    for (int i = 0; i < 64; i++)
        up[i] = (char)((ABC_HEX[i] >= 'a' && ABC_HEX[i] <= 'f') ? ABC_HEX[i] - 32 : ABC_HEX[i]);
    up[64] = 0;
    mlops_oid a, b;
    ck_assert_int_eq(mlops_oid_fromhex(&a, up), 0);
    ck_assert_int_eq(mlops_oid_fromhex(&b, ABC_HEX), 0);
    ck_assert_int_eq(mlops_oid_cmp(&a, &b), 0);
    char hex[65];
    ck_assert_int_eq(mlops_oid_tohex(hex, &a), 0);
    ck_assert_str_eq(hex, ABC_HEX); /* output is lowercase */
}
END_TEST

START_TEST(wrong_length)
{
    mlops_oid id;
    char buf[70];
    memcpy(buf, ABC_HEX, 64);
    buf[63] = 0;
    tu_assert_err(mlops_oid_fromhex(&id, buf), MLOPS_EINVALID);
    memcpy(buf, ABC_HEX, 64);
    buf[64] = 'a';
    buf[65] = 0;
    tu_assert_err(mlops_oid_fromhex(&id, buf), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_fromhex(&id, ""), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_fromhex(&id, "abc"), MLOPS_EINVALID);
    /* 128 digits */
    char two[129];
    memcpy(two, ABC_HEX, 64);
    memcpy(two + 64, ABC_HEX, 64);
    two[128] = 0;
    tu_assert_err(mlops_oid_fromhex(&id, two), MLOPS_EINVALID);
    /* fromhexn: only len 64 */
    ck_assert_int_eq(mlops_oid_fromhexn(&id, two, 64), 0);
    mlops_oid abc = tu_oid(ABC_HEX);
    ck_assert_int_eq(mlops_oid_cmp(&id, &abc), 0);
    tu_assert_err(mlops_oid_fromhexn(&id, two, 63), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_fromhexn(&id, two, 65), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_fromhexn(&id, two, 0), MLOPS_EINVALID);
}
END_TEST

START_TEST(non_hex)
{
    const char bad[] = {'g', 'G', 'x', ' ', '-', '+', '/', ':', '@', '`', '\n', (char)0xc3, (char)0xff};
    mlops_oid id;
    for (size_t k = 0; k < sizeof bad; k++) {
        for (int pos = 0; pos < 64; pos += 21) {
            char buf[65];
            memcpy(buf, ABC_HEX, 65);
            buf[pos] = bad[k];
            tu_assert_err(mlops_oid_fromhex(&id, buf), MLOPS_EINVALID);
        }
    }
    /* the last digit too */
    char buf[65];
    memcpy(buf, ABC_HEX, 65);
    buf[63] = 'z';
    tu_assert_err(mlops_oid_fromhex(&id, buf), MLOPS_EINVALID);
    /* an embedded NUL in fromhexn */
    memcpy(buf, ABC_HEX, 65);
    buf[10] = 0;
    tu_assert_err(mlops_oid_fromhexn(&id, buf, 64), MLOPS_EINVALID);
}
END_TEST

START_TEST(null_args)
{
    mlops_oid id = tu_oid(ABC_HEX);
    char hex[65];
    tu_assert_err(mlops_oid_fromhex(NULL, ABC_HEX), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_fromhex(&id, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_fromhexn(NULL, ABC_HEX, 64), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_fromhexn(&id, NULL, 64), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_tohex(NULL, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_tohex(hex, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_hash(NULL, "abc", 3), MLOPS_EINVALID);
    tu_assert_err(mlops_oid_hash(&id, NULL, 3), MLOPS_EINVALID);
}
END_TEST

static void check_hash(const void *data, size_t len, const char *want)
{
    mlops_oid id;
    char hex[65];
    ck_assert_int_eq(mlops_oid_hash(&id, data, len), 0);
    tu_hex(&id, hex);
    ck_assert_str_eq(hex, want);
}

START_TEST(hash_vectors)
{
    check_hash("", 0, EMPTY_HEX);
    check_hash("abc", 3, ABC_HEX);
    check_hash(TWO_BLOCK_MSG, strlen(TWO_BLOCK_MSG), TWO_BLOCK_HEX);
    /* a million 'a' (FIPS 180-2) */
    size_t n = 1000000;
    char *a = tu_xmalloc(n);
    memset(a, 'a', n);
    check_hash(a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
    /* random sizes against sha256sum */
    const size_t sizes[] = {1, 55, 56, 63, 64, 65, 4097, 100003};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *buf = tu_xmalloc(sizes[i]);
        tu_fill_random(buf, sizes[i], i + 1);
        char want[65];
        tu_sha256sum_buf(buf, sizes[i], want);
        check_hash(buf, sizes[i], want);
        free(buf);
    }
}
END_TEST

START_TEST(cmp_ordering)
{
    mlops_oid a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(mlops_oid_cmp(&a, &b), 0);
    b.id[31] = 1;
    ck_assert_int_lt(mlops_oid_cmp(&a, &b), 0);
    ck_assert_int_gt(mlops_oid_cmp(&b, &a), 0);
    /* unsigned bytewise: 0x80 sorts after 0x7f */
    a.id[0] = 0x7f;
    b.id[0] = 0x80;
    b.id[31] = 0;
    a.id[31] = 0xff;
    ck_assert_int_lt(mlops_oid_cmp(&a, &b), 0);
    ck_assert_int_gt(mlops_oid_cmp(&b, &a), 0);
    /* consistent with the hex strings' order */
    mlops_oid e = tu_oid(EMPTY_HEX), c = tu_oid(ABC_HEX);
    ck_assert_int_lt(mlops_oid_cmp(&c, &e), 0); /* "ba78..." < "e3b0..." */
}
END_TEST

static Suite *oid_suite(void)
{
    Suite *s = suite_create("oid");
    TCase *tc = tcase_create("oid");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, roundtrip);
    tcase_add_test(tc, uppercase_accepted);
    tcase_add_test(tc, wrong_length);
    tcase_add_test(tc, non_hex);
    tcase_add_test(tc, null_args);
    tcase_add_test(tc, hash_vectors);
    tcase_add_test(tc, cmp_ordering);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(oid_suite());
}
