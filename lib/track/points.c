/*
 * Metric point batches: the log record format of points.h. Written for
 * speed on both sides (a batch of 64k points is encoded into one buffer
 * grown once; the reader decodes straight into the caller's arrays),
 * because logging and history reads are the hot paths of tracking.
 */
#include <string.h>

#include "common/error.h"
#include "points.h"

#include "mlops/track.h"

/* Values are stored little endian; on such hosts they are copied whole. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_LE 1
#else
#define HOST_LE 0
#endif

static int corrupt(const char *what)
{
    return mlops__error_set(MLOPS_ECORRUPT, "metric batch: %s", what);
}

/* ---- encoding ---------------------------------------------------------- */

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

/* Zigzag keeps small negative deltas (a restarted step counter) short. */
static uint64_t zigzag(uint64_t d)
{
    return (d << 1) ^ (uint64_t)-(int64_t)(d >> 63);
}

static uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (uint64_t)-(int64_t)(z & 1);
}

#if !HOST_LE
static void put_f64(unsigned char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}
#endif

static unsigned char *put_deltas(unsigned char *p, const int64_t *x, size_t n)
{
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        /* modulo 2^64: INT64_MIN after INT64_MAX is a valid delta too */
        p = put_varint(p, zigzag((uint64_t)x[i] - prev));
        prev = (uint64_t)x[i];
    }
    return p;
}

int mlops__points_begin(mlops__buf *out)
{
    unsigned char v = MLOPS__POINTS_VERSION;
    return mlops__buf_put(out, &v, 1);
}

int mlops__points_add_group(mlops__buf *out, const char *key, size_t keylen, const double *values,
                            const int64_t *steps, const int64_t *timestamps, size_t n)
{
    if (n == 0)
        return 0;
    if (n > ((size_t)-1 - keylen - 20) / MLOPS__POINTS_MAX_BYTES)
        return mlops__error_oom();
    MLOPS__TRY(mlops__buf_grow(out, keylen + 20 + n * MLOPS__POINTS_MAX_BYTES));
    unsigned char *p = (unsigned char *)out->ptr + out->len;
    p = put_varint(p, keylen);
    memcpy(p, key, keylen);
    p = put_varint(p + keylen, n);
#if HOST_LE
    memcpy(p, values, n * 8);
#else
    for (size_t i = 0; i < n; i++)
        put_f64(p + 8 * i, values[i]);
#endif
    p = put_deltas(p + n * 8, steps, n);
    p = put_deltas(p, timestamps, n);
    out->len = (size_t)(p - (unsigned char *)out->ptr);
    out->ptr[out->len] = '\0';
    return 0;
}

/* ---- decoding ---------------------------------------------------------- */

/* Reads one LEB128 varint; 0 or MLOPS_ECORRUPT. */
static inline int get_varint(uint64_t *out, const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    if (p < end && *p < 0x80) { /* the common one-byte delta */
        *out = *p;
        *pp = p + 1;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (p >= end)
            return corrupt("truncated varint");
        unsigned char b = *p++;
        if (shift == 63 && b > 1)
            return corrupt("varint overflows 64 bits");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            if (b == 0 && shift > 0)
                return corrupt("overlong varint");
            *out = v;
            *pp = p;
            return 0;
        }
    }
    return corrupt("varint longer than 10 bytes");
}

static int get_deltas(int64_t *x, size_t n, const unsigned char **pp, const unsigned char *end)
{
    uint64_t prev = 0, z = 0;
    for (size_t i = 0; i < n; i++) {
        MLOPS__TRY(get_varint(&z, pp, end));
        prev += unzigzag(z);
        if (x)
            memcpy(&x[i], &prev, 8); /* two's complement, no signed overflow */
    }
    return 0;
}

#if !HOST_LE
static double get_f64(const unsigned char *p)
{
    uint64_t u = 0;
    double v;
    for (int i = 7; i >= 0; i--)
        u = (u << 8) | p[i];
    memcpy(&v, &u, 8);
    return v;
}
#endif

int mlops__points_reader_init(mlops__points_reader *r, const void *record, size_t len)
{
    r->p = record;
    r->end = r->p + len;
    r->pending = 0;
    if (len == 0 || !record)
        return corrupt("empty record");
    if (r->p[0] != MLOPS__POINTS_VERSION)
        return mlops__error_set(r->p[0] > MLOPS__POINTS_VERSION ? MLOPS_EUNSUPPORTED : MLOPS_ECORRUPT,
                                "metric batch: unknown version %u", (unsigned)r->p[0]);
    r->p++;
    return 0;
}

int mlops__points_read(mlops__points_reader *r, double *values, int64_t *steps, int64_t *timestamps)
{
    size_t n = r->pending;
    /* next_group checked that the values fit */
    if (values) {
#if HOST_LE
        memcpy(values, r->p, n * 8);
#else
        for (size_t i = 0; i < n; i++)
            values[i] = get_f64(r->p + 8 * i);
#endif
    }
    r->p += n * 8;
    r->pending = 0;
    MLOPS__TRY(get_deltas(steps, n, &r->p, r->end));
    return get_deltas(timestamps, n, &r->p, r->end);
}

int mlops__points_next_group(mlops__points_reader *r, const char **key, size_t *keylen, size_t *n)
{
    uint64_t klen = 0, count = 0;
    if (r->pending)
        MLOPS__TRY(mlops__points_read(r, NULL, NULL, NULL));
    if (r->p == r->end)
        return 0;
    MLOPS__TRY(get_varint(&klen, &r->p, r->end));
    if (klen == 0 || klen > MLOPS_KEY_MAX)
        return corrupt("bad key length");
    if (klen > (uint64_t)(r->end - r->p))
        return corrupt("truncated key");
    if (memchr(r->p, 0, (size_t)klen))
        return corrupt("NUL in key");
    *key = (const char *)r->p;
    *keylen = (size_t)klen;
    r->p += klen;
    MLOPS__TRY(get_varint(&count, &r->p, r->end));
    /* each point takes at least 10 bytes: bounds what callers allocate */
    if (count == 0 || count > (uint64_t)(r->end - r->p) / 10)
        return corrupt("bad point count");
    *n = (size_t)count;
    r->pending = (size_t)count;
    return 1;
}
