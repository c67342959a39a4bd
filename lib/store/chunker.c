/*
 * Content-defined chunking with a gear hash, after FastCDC (Xia et al.,
 * USENIX ATC 2016). The fingerprint of a position is the gear hash of the
 * 64 bytes ending there,
 *     W(p) = sum over j = 0..63 of gear[byte[p - j]] << j   (mod 2^64),
 * which a rolling h = (h << 1) + gear[byte] yields once 64 bytes went in.
 * A cut depends only on those bytes, so an edit changes only the chunks
 * near it. Like FastCDC we
 *  - skip the first min - 64 bytes of every chunk (no cut can fall below
 *    min, so they need no hashing: the main speed-up),
 *  - normalize: up to a normal size of avg - min bytes a cut needs
 *    log2(avg) + 1 zero bits, past it log2(avg) - 1, which narrows the
 *    size distribution (the mean lands near avg: 1.09 MiB for the
 *    defaults),
 *  - cut hard at max.
 * The normalization level and point were chosen by simulating a 1 MiB
 * overwrite at random places of a 64 MiB file: with FastCDC's +-2 bits
 * and avg as the normal point the mean chunk is 1.16 MiB and the new
 * version adds 3.2 MiB on average, over 4 MiB one time in four; a looser
 * mask that matches more often lets a chunking that was shifted by the
 * edit miss the old cut points for longer. With +-1 bit at avg - min it
 * adds 2.6 MiB, over 4 MiB one time in twenty.
 * The masks take the top bits of W, the ones that mix the whole window.
 * Because W has a fixed window, a long stretch can be scanned as several
 * independent lanes at once (each warmed up on the 63 bytes before it),
 * which keeps the CPU busy where one rolling hash is a chain of dependent
 * additions. Everything here is format: see docs/FORMAT.md.
 */
#include <pthread.h>

#include "chunker.h"

/* splitmix64 from this seed fills the table ("mlopsCDC" in ASCII). */
#define GEAR_SEED UINT64_C(0x6d6c6f7073434443)
#define WINDOW 64
#define LANES 4
#define LANE_MAX ((size_t)8 << 10) /* bytes per lane and stripe */
#define LANE_MIN ((size_t)512)     /* shorter stretches: one lane */

static uint64_t gear[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

static void gear_fill(void)
{
    uint64_t x = GEAR_SEED;
    for (int i = 0; i < 256; i++) {
        uint64_t z = (x += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        gear[i] = z ^ (z >> 31);
    }
}

const uint64_t *mlops__gear_table(void)
{
    pthread_once(&gear_once, gear_fill);
    return gear;
}

static unsigned log2_of(uint32_t v)
{
    unsigned k = 0;
    while (v > 1) {
        v >>= 1;
        k++;
    }
    return k;
}

/* The top `bits` bits of a 64-bit word. */
static uint64_t top_bits(unsigned bits)
{
    return ~UINT64_C(0) << (64 - bits);
}

void mlops__chunker_init(mlops__chunker *c, uint32_t min, uint32_t avg, uint32_t max)
{
    unsigned k = log2_of(avg);
    c->mask_small = top_bits(k + 1);
    c->mask_large = top_bits(k - 1);
    c->min = min;
    c->normal = avg - min > min ? avg - min : min; /* min: no strict zone */
    c->max = max;
    c->pos = 0;
    c->h = 0;
    (void)mlops__gear_table();
}

#define ROLL(h, byte) ((h) = ((h) << 1) + gear[(byte)])

/* W at the byte before q, from the WINDOW - 1 bytes before q (the oldest
 * byte of the window at q shifts in last). */
static uint64_t warm_up(const unsigned char *q)
{
    uint64_t h = 0;
    for (int j = WINDOW - 1; j >= 1; j--)
        ROLL(h, q[-j]);
    return h;
}

/* One lane: the index after the first byte in [i, end) whose W matches,
 * or 0 if none; *hp is W before i on entry and after the scan on exit. */
static size_t scan_lane(uint64_t *hp, const unsigned char *p, size_t i, size_t end, uint64_t mask)
{
    uint64_t h = *hp;
    for (; i < end; i++) {
        ROLL(h, p[i]);
        if (!(h & mask)) {
            *hp = h;
            return i + 1;
        }
    }
    *hp = h;
    return 0;
}

/* LANES lanes of s bytes from a, stepped together; on a hit in some lane,
 * the earliest cut in stream order. Returns the index after the cut
 * relative to a, or 0 (and *hp is W at the end of the last lane). */
static size_t scan_stripe(uint64_t *hp, const unsigned char *a, size_t s, uint64_t mask)
{
    uint64_t h[LANES];
    const unsigned char *q[LANES];
    h[0] = *hp;
    q[0] = a;
    for (int l = 1; l < LANES; l++) {
        q[l] = a + (size_t)l * s;
        h[l] = warm_up(q[l]);
    }
    size_t k;
    for (k = 0; k < s; k++) {
        ROLL(h[0], q[0][k]);
        ROLL(h[1], q[1][k]);
        ROLL(h[2], q[2][k]);
        ROLL(h[3], q[3][k]);
        if (!(h[0] & mask) | !(h[1] & mask) | !(h[2] & mask) | !(h[3] & mask))
            break;
    }
    if (k == s) {
        *hp = h[LANES - 1];
        return 0;
    }
    /* Some lane matched at step k and none before. A lane that did not
     * match at k may still match later within its own stretch, which
     * comes before every later lane's. */
    for (int l = 0; l < LANES; l++) {
        if (!(h[l] & mask))
            return (size_t)l * s + k + 1;
        size_t at = scan_lane(&h[l], q[l], k + 1, s, mask);
        if (at)
            return (size_t)l * s + at;
    }
    return 0; /* not reached: the last lane matched at k */
}

/* The index after the first matching byte in [i, end), or 0; *hp is W
 * before i (needs i >= WINDOW - 1 bytes of history in p when lanes are
 * used: the caller's phases guarantee it). */
static size_t find_cut(uint64_t *hp, const unsigned char *p, size_t i, size_t end, uint64_t mask)
{
    while (end - i >= LANES * LANE_MIN) {
        size_t s = (end - i) / LANES;
        if (s > LANE_MAX)
            s = LANE_MAX;
        size_t at = scan_stripe(hp, p + i, s, mask);
        if (at)
            return i + at;
        i += LANES * s;
    }
    return scan_lane(hp, p, i, end, mask);
}

/* The chunk ends after the first n bytes of this scan. */
static size_t cut_after(mlops__chunker *c, size_t n, int *cut)
{
    *cut = 1;
    c->pos = 0;
    c->h = 0;
    return n;
}

/* Index in p where chunk position q falls, capped at n (p[0] is at pos). */
static size_t index_of(const mlops__chunker *c, uint64_t q, size_t n)
{
    return q - c->pos < n ? (size_t)(q - c->pos) : n;
}

size_t mlops__chunker_scan(mlops__chunker *c, const unsigned char *p, size_t n, int *cut)
{
    size_t i = 0;
    *cut = 0;
    /* Chunk positions [0, min - 64): skipped, no cut can depend on them. */
    uint64_t roll_from = c->min - WINDOW;
    if (c->pos < roll_from)
        i = index_of(c, roll_from, n);
    /* [min - 64, min - 1): the window fills, no test yet. */
    uint64_t test_from = c->min - 1;
    if (c->pos + i < test_from) {
        size_t e = index_of(c, test_from, n);
        for (; i < e; i++)
            ROLL(c->h, p[i]);
    }
    /* A chunk of L bytes ends at position L - 1: the stricter mask for
     * L <= normal, the looser one up to max, then a hard cut. */
    if (i < n && c->pos + i < c->normal) {
        size_t e = index_of(c, c->normal, n);
        size_t at = find_cut(&c->h, p, i, e, c->mask_small);
        if (at)
            return cut_after(c, at, cut);
        i = e;
    }
    if (i < n) {
        size_t e = index_of(c, c->max, n);
        size_t at = find_cut(&c->h, p, i, e, c->mask_large);
        if (at || c->pos + e == c->max)
            return cut_after(c, at ? at : e, cut);
    }
    c->pos += n;
    return n;
}
