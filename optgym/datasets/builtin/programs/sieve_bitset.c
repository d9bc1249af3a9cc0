/* optgym-builtin: Segmented sieve of Eratosthenes over an odd-only bitset, with prime counting, twin and prime-gap statistics and a trial-division cross-check. Style: bit-twiddling, loop-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 600000u
#define SEGMENT_BYTES 4096u
#define SEGMENT_SPAN (SEGMENT_BYTES * 8u * 2u) /* odd numbers only */

typedef struct {
    uint64_t *words;
    size_t nwords;
} Bitset;

static int bitset_init(Bitset *b, size_t nbits)
{
    b->nwords = (nbits + 63) / 64;
    b->words = calloc(b->nwords, sizeof(uint64_t));
    return b->words != NULL;
}

static void bitset_free(Bitset *b)
{
    free(b->words);
    b->words = NULL;
    b->nwords = 0;
}

static void bitset_fill(Bitset *b)
{
    memset(b->words, 0xFF, b->nwords * sizeof(uint64_t));
}

static inline void bitset_clear(Bitset *b, size_t i)
{
    b->words[i >> 6] &= ~(1ull << (i & 63));
}

static inline int bitset_test(const Bitset *b, size_t i)
{
    return (int)((b->words[i >> 6] >> (i & 63)) & 1u);
}

static int popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (int)((x * 0x0101010101010101ull) >> 56);
}

/* Simple sieve for the base primes up to sqrt(LIMIT). */
static uint32_t *base_primes(uint32_t upto, size_t *count)
{
    uint8_t *comp = calloc(upto + 1, 1);
    uint32_t *out = malloc(sizeof(uint32_t) * (upto / 2 + 2));
    size_t n = 0;
    for (uint32_t i = 3; i <= upto; i += 2) {
        if (comp[i])
            continue;
        out[n++] = i;
        for (uint32_t j = i * i; j <= upto; j += 2 * i)
            comp[j] = 1;
    }
    free(comp);
    *count = n;
    return out;
}

typedef struct {
    uint32_t count;
    uint32_t twins;
    uint32_t max_gap;
    uint32_t max_gap_start;
    uint32_t last;
    uint32_t mod4_1, mod4_3;
    uint64_t sum;
    uint32_t hash;
    uint32_t gap_hist[16];
} Stats;

static void stats_add(Stats *s, uint32_t p)
{
    s->count++;
    s->sum += p;
    s->hash = (s->hash ^ p) * 0x01000193u;
    if (p % 4 == 1)
        s->mod4_1++;
    else if (p % 4 == 3)
        s->mod4_3++;
    if (s->last) {
        uint32_t g = p - s->last;
        if (g == 2)
            s->twins++;
        if (g > s->max_gap) {
            s->max_gap = g;
            s->max_gap_start = s->last;
        }
        uint32_t bucket = g / 2;
        s->gap_hist[bucket < 15 ? bucket : 15]++;
    }
    s->last = p;
}

static void sieve_segment(Bitset *seg, uint32_t lo, uint32_t hi, const uint32_t *primes, size_t np)
{
    /* bit i of seg represents the odd number lo + 2*i; lo is odd. */
    bitset_fill(seg);
    for (size_t k = 0; k < np; k++) {
        uint32_t p = primes[k];
        uint64_t sq = (uint64_t)p * p;
        if (sq >= hi)
            break;
        uint64_t start = sq;
        if (start < lo) {
            uint64_t r = (lo + p - 1) / p * (uint64_t)p;
            if ((r & 1u) == 0)
                r += p;
            start = r;
        }
        for (uint64_t m = start; m < hi; m += 2ull * p)
            bitset_clear(seg, (size_t)((m - lo) >> 1));
    }
}

static uint32_t count_segment_fast(const Bitset *seg, size_t nbits)
{
    uint32_t c = 0;
    size_t full = nbits / 64;
    for (size_t w = 0; w < full; w++)
        c += (uint32_t)popcount64(seg->words[w]);
    for (size_t i = full * 64; i < nbits; i++)
        c += (uint32_t)bitset_test(seg, i);
    return c;
}

static int is_prime_trial(uint32_t n)
{
    if (n < 2)
        return 0;
    if (n % 2 == 0)
        return n == 2;
    for (uint32_t d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

int main(void)
{
    size_t np;
    uint32_t root = 1;
    while ((root + 1) * (root + 1) <= LIMIT)
        root++;
    uint32_t *primes = base_primes(root, &np);
    Bitset seg;
    if (!bitset_init(&seg, SEGMENT_BYTES * 8u))
        return 1;

    /* Whole-range odd-only bitset, assembled from the segments for random lookups later. */
    Bitset all;
    if (!bitset_init(&all, LIMIT / 2 + 1))
        return 1;
    Stats st;
    memset(&st, 0, sizeof st);
    stats_add(&st, 2);
    uint32_t popcount_total = 1;
    uint32_t checkpoints[6] = {1000u, 10000u, 100000u, 250000u, 500000u, LIMIT};
    uint32_t counts_at[6] = {0};
    int ci = 0;

    for (uint32_t lo = 3; lo < LIMIT; lo += SEGMENT_SPAN) {
        uint32_t hi = lo + SEGMENT_SPAN;
        if (hi > LIMIT + 1)
            hi = LIMIT + 1;
        sieve_segment(&seg, lo, hi, primes, np);
        size_t nbits = (hi - lo + 1) / 2;
        popcount_total += count_segment_fast(&seg, nbits);
        for (size_t i = 0; i < nbits; i++)
            if (bitset_test(&seg, i))
                all.words[((lo - 3) / 2 + i) >> 6] |= 1ull << (((lo - 3) / 2 + i) & 63);
        for (size_t i = 0; i < nbits; i++) {
            if (!bitset_test(&seg, i))
                continue;
            uint32_t p = lo + 2u * (uint32_t)i;
            if (p > LIMIT)
                break;
            while (ci < 6 && p > checkpoints[ci])
                counts_at[ci++] = st.count;
            stats_add(&st, p);
        }
    }
    while (ci < 6)
        counts_at[ci++] = st.count;

    /* Cross-check a sample of numbers against trial division. */
    uint32_t x = 7u, mismatches = 0, sampled_primes = 0;
    for (int i = 0; i < 3000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t n = (x >> 4) % LIMIT + 1;
        int sieve_says;
        if (n == 2)
            sieve_says = 1;
        else if (n < 3 || n % 2 == 0)
            sieve_says = 0;
        else
            sieve_says = bitset_test(&all, (n - 3) / 2);
        int t = is_prime_trial(n);
        sampled_primes += (uint32_t)t;
        if (t != sieve_says)
            mismatches++;
    }

    printf("pi(%u)=%u popcount=%u sum=%llu hash=%08x\n", LIMIT, st.count, popcount_total, (unsigned long long)st.sum,
           (unsigned)st.hash);
    printf("twins=%u maxgap=%u after %u mod4: %u %u\n", st.twins, st.max_gap, st.max_gap_start, st.mod4_1, st.mod4_3);
    for (int i = 0; i < 6; i++)
        printf("pi(%u)=%u\n", checkpoints[i], counts_at[i]);
    printf("gaps:");
    for (int i = 0; i < 16; i++)
        printf(" %u", st.gap_hist[i]);
    printf("\nsample primes=%u mismatches=%u\n", sampled_primes, mismatches);
    bitset_free(&seg);
    bitset_free(&all);
    free(primes);
    return 0;
}
