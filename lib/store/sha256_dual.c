/*
 * Two SHA-256 streams over the same bytes (see sha256_dual.h). The fast
 * path uses the SHA extensions' round and message-schedule instructions
 * (FIPS 180-4 compression function, state kept as the ABEF/CDGH register
 * pair those instructions work on) and runs the two streams' blocks side
 * by side. Tests compare every path against OpenSSL.
 */
#include <string.h>

#include "common/error.h"
#include "sha256_dual.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#define SHANI __attribute__((target("sha,sse4.1,ssse3")))
#endif

static const uint32_t H0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

#ifdef HAVE_SHANI
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static int cpu_has_sha(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
        return 0;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 29) & 1;
}

/* The register pair: abef holds (f, e, b, a) from lane 0 up, cdgh (h, g, d, c). */
typedef struct regs {
    __m128i abef, cdgh;
} regs;

SHANI static regs regs_load(const uint32_t h[8])
{
    __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0xB1);
    __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h + 4)), 0x1B);
    regs r;
    r.abef = _mm_alignr_epi8(dcba, hgfe, 8);
    r.cdgh = _mm_blend_epi16(hgfe, dcba, 0xF0);
    return r;
}

SHANI static void regs_store(uint32_t h[8], regs r)
{
    __m128i feba = _mm_shuffle_epi32(r.abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(r.cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)h, _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

/* Four rounds with message words m (already byte-swapped), group g. */
#define ROUNDS4(r, m, g)                                                                 \
    do {                                                                                 \
        __m128i wk_ = _mm_add_epi32((m), _mm_loadu_si128((const __m128i *)(K + 4 * (g)))); \
        (r).cdgh = _mm_sha256rnds2_epu32((r).cdgh, (r).abef, wk_);                       \
        wk_ = _mm_shuffle_epi32(wk_, 0x0E);                                              \
        (r).abef = _mm_sha256rnds2_epu32((r).abef, (r).cdgh, wk_);                       \
    } while (0)

/* Message group g >= 4 from the four before it. */
#define SCHEDULE(w, g)                                                                       \
    _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((w)[(g) - 4], (w)[(g) - 3]),    \
                                       _mm_alignr_epi8((w)[(g) - 1], (w)[(g) - 2], 4)),      \
                         (w)[(g) - 1])

SHANI static __m128i load_words(const unsigned char *p)
{
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), swap);
}

SHANI static void blocks1(uint32_t h[8], const unsigned char *p, size_t n)
{
    regs r = regs_load(h);
    for (; n > 0; n--, p += 64) {
        regs s = r;
        __m128i w[16];
        for (int g = 0; g < 4; g++) {
            w[g] = load_words(p + 16 * g);
            ROUNDS4(s, w[g], g);
        }
        for (int g = 4; g < 16; g++) {
            w[g] = SCHEDULE(w, g);
            ROUNDS4(s, w[g], g);
        }
        r.abef = _mm_add_epi32(r.abef, s.abef);
        r.cdgh = _mm_add_epi32(r.cdgh, s.cdgh);
    }
    regs_store(h, r);
}

/* n blocks of each stream, their rounds interleaved. */
SHANI static void blocks2(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8], const unsigned char *pb, size_t n)
{
    regs ra = regs_load(ha), rb = regs_load(hb);
    for (; n > 0; n--, pa += 64, pb += 64) {
        regs sa = ra, sb = rb;
        __m128i wa[16], wb[16];
        for (int g = 0; g < 4; g++) {
            wa[g] = load_words(pa + 16 * g);
            wb[g] = load_words(pb + 16 * g);
            ROUNDS4(sa, wa[g], g);
            ROUNDS4(sb, wb[g], g);
        }
        for (int g = 4; g < 16; g++) {
            wa[g] = SCHEDULE(wa, g);
            wb[g] = SCHEDULE(wb, g);
            ROUNDS4(sa, wa[g], g);
            ROUNDS4(sb, wb[g], g);
        }
        ra.abef = _mm_add_epi32(ra.abef, sa.abef);
        ra.cdgh = _mm_add_epi32(ra.cdgh, sa.cdgh);
        rb.abef = _mm_add_epi32(rb.abef, sb.abef);
        rb.cdgh = _mm_add_epi32(rb.cdgh, sb.cdgh);
    }
    regs_store(ha, ra);
    regs_store(hb, rb);
}
#else
static int cpu_has_sha(void)
{
    return 0;
}
/* Never called: fast is 0 without the extensions. */
static void blocks1(uint32_t h[8], const unsigned char *p, size_t n)
{
    (void)h;
    (void)p;
    (void)n;
}
static void blocks2(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8], const unsigned char *pb, size_t n)
{
    (void)ha;
    (void)pa;
    (void)hb;
    (void)pb;
    (void)n;
}
#endif

static void stream_init(mlops__sha_stream *s)
{
    memcpy(s->h, H0, sizeof H0);
    s->fill = 0;
    s->total = 0;
}

/* Tops up a partial block from p; returns the bytes taken. */
static size_t stream_top_up(mlops__sha_stream *s, const unsigned char *p, size_t n)
{
    if (s->fill == 0)
        return 0;
    size_t take = 64 - s->fill < n ? 64 - s->fill : n;
    memcpy(s->buf + s->fill, p, take);
    s->fill += take;
    if (s->fill == 64) {
        blocks1(s->h, s->buf, 1);
        s->fill = 0;
    }
    return take;
}

/* Keeps the tail (less than a block) of what a stream did not compress. */
static void stream_keep(mlops__sha_stream *s, const unsigned char *p, size_t n)
{
    memcpy(s->buf + s->fill, p, n);
    s->fill += n;
}

static void stream_final(mlops__sha_stream *s, unsigned char out[32])
{
    uint64_t bits = s->total * 8;
    s->buf[s->fill++] = 0x80;
    if (s->fill > 56) {
        memset(s->buf + s->fill, 0, 64 - s->fill);
        blocks1(s->h, s->buf, 1);
        s->fill = 0;
    }
    memset(s->buf + s->fill, 0, 56 - s->fill);
    for (int i = 0; i < 8; i++)
        s->buf[63 - i] = (unsigned char)(bits >> (8 * i));
    blocks1(s->h, s->buf, 1);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
}

/* Both streams take the same n bytes; each compresses whole blocks from
 * its own offset in p (where its partial block ended), side by side. */
static void fast_update(mlops__sha_dual *d, const unsigned char *p, size_t n)
{
    mlops__sha_stream *a = &d->a, *b = &d->b;
    size_t oa = stream_top_up(a, p, n), ob = stream_top_up(b, p, n);
    /* A stream whose partial block is still not full took everything. */
    size_t na = a->fill ? 0 : n - oa, nb = b->fill ? 0 : n - ob;
    size_t ka = na / 64, kb = nb / 64, k = ka < kb ? ka : kb;
    blocks2(a->h, p + oa, b->h, p + ob, k);
    blocks1(a->h, p + oa + 64 * k, ka - k);
    blocks1(b->h, p + ob + 64 * k, kb - k);
    stream_keep(a, p + oa + 64 * ka, na - 64 * ka);
    stream_keep(b, p + ob + 64 * kb, nb - 64 * kb);
    a->total += n;
    b->total += n;
}

int mlops__sha_dual_init(mlops__sha_dual *d, int allow_fast)
{
    memset(d, 0, sizeof *d);
    d->fast = allow_fast && cpu_has_sha();
    if (d->fast) {
        stream_init(&d->a);
        stream_init(&d->b);
        return 0;
    }
    MLOPS__TRY(mlops__sha256_init(&d->ea));
    return mlops__sha256_init(&d->eb);
}

int mlops__sha_dual_update(mlops__sha_dual *d, const void *p, size_t n)
{
    if (d->fast) {
        fast_update(d, p, n);
        return 0;
    }
    MLOPS__TRY(mlops__sha256_update(&d->ea, p, n));
    return mlops__sha256_update(&d->eb, p, n);
}

int mlops__sha_dual_next(mlops__sha_dual *d, unsigned char out[32])
{
    if (d->fast) {
        stream_final(&d->b, out);
        stream_init(&d->b);
        return 0;
    }
    MLOPS__TRY(mlops__sha256_final(&d->eb, out));
    return mlops__sha256_init(&d->eb);
}

int mlops__sha_dual_final(mlops__sha_dual *d, unsigned char out[32])
{
    if (d->fast) {
        stream_final(&d->a, out);
        return 0;
    }
    return mlops__sha256_final(&d->ea, out);
}

void mlops__sha_dual_dispose(mlops__sha_dual *d)
{
    mlops__sha256_dispose(&d->ea);
    mlops__sha256_dispose(&d->eb);
}
