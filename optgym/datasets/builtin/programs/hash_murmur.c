/* optgym-builtin: A murmur-style 32-bit block-mixing hash with finalizer over generated string and integer keys, measuring bucket distribution, avalanche and collisions. Style: bit-twiddling, loop-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

static uint32_t fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

static uint32_t read32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t mix_block(uint32_t k)
{
    k *= 0xCC9E2D51u;
    k = rotl32(k, 15);
    k *= 0x1B873593u;
    return k;
}

static uint32_t murmur_like(const void *key, size_t len, uint32_t seed)
{
    const uint8_t *p = key;
    size_t nblocks = len / 4;
    uint32_t h = seed;
    for (size_t i = 0; i < nblocks; ++i) {
        h ^= mix_block(read32(p + 4 * i));
        h = rotl32(h, 13);
        h = h * 5u + 0xE6546B64u;
    }
    const uint8_t *tail = p + nblocks * 4;
    uint32_t k = 0;
    switch (len & 3u) {
    case 3: k ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: k ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1:
        k ^= tail[0];
        h ^= mix_block(k);
        break;
    default: break;
    }
    h ^= (uint32_t)len;
    return fmix32(h);
}

static uint32_t rng_state = 0xDEADBEEFu;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 7;
    rng_state ^= rng_state >> 9;
    rng_state ^= rng_state << 8;
    return rng_state;
}

static size_t make_key(char *out, int i)
{
    static const char *const parts[] = {"user", "item", "order", "session", "node", "edge", "blk"};
    size_t n = (size_t)sprintf(out, "%s:%d:", parts[(unsigned)i % 7u], i);
    int extra = (int)(rng() % 9u);
    for (int j = 0; j < extra; ++j) out[n++] = (char)('a' + rng() % 26u);
    out[n] = '\0';
    return n;
}

static int popcount(uint32_t x)
{
    int c = 0;
    while (x) {
        x &= x - 1;
        c++;
    }
    return c;
}

static uint32_t chi_square_scaled(const unsigned *buckets, int nb, int nkeys)
{
    /* sum((obs-exp)^2/exp) * 100, all integer */
    uint64_t acc = 0;
    for (int i = 0; i < nb; ++i) {
        int64_t d = (int64_t)buckets[i] * nb - nkeys;
        acc += (uint64_t)(d * d);
    }
    return (uint32_t)(acc * 100u / ((uint64_t)nkeys * (uint64_t)nb));
}

int main(void)
{
    enum { NK = 6000, NB = 256 };
    static unsigned buckets[NB];
    static uint32_t hashes[NK];
    char key[64];
    uint32_t xorall = 0;
    for (int i = 0; i < NK; ++i) {
        size_t n = make_key(key, i);
        uint32_t h = murmur_like(key, n, 0x9747B28Cu);
        hashes[i] = h;
        buckets[h & (NB - 1)]++;
        xorall ^= h;
    }
    unsigned mn = NK, mx = 0;
    for (int i = 0; i < NB; ++i) {
        if (buckets[i] < mn) mn = buckets[i];
        if (buckets[i] > mx) mx = buckets[i];
    }
    int collisions = 0;
    for (int i = 0; i < NK; ++i)
        for (int j = i + 1; j < i + 64 && j < NK; ++j)
            if (hashes[i] == hashes[j]) collisions++;
    printf("strings: xor=%08x buckets min=%u max=%u chi100=%u near_collisions=%d\n", (unsigned)xorall, mn,
           mx, (unsigned)chi_square_scaled(buckets, NB, NK), collisions);

    /* avalanche: flipping one input bit should flip about half the output bits */
    uint64_t flips = 0;
    int trials = 0;
    for (int t = 0; t < 200; ++t) {
        uint32_t v[2];
        v[0] = rng();
        v[1] = rng();
        uint32_t base = murmur_like(v, sizeof v, 0);
        for (int bit = 0; bit < 64; ++bit) {
            uint32_t w[2] = {v[0], v[1]};
            w[bit / 32] ^= 1u << (bit % 32);
            flips += (uint64_t)popcount(base ^ murmur_like(w, sizeof w, 0));
            trials++;
        }
    }
    printf("avalanche: mean_flips_x100=%llu\n", (unsigned long long)(flips * 100u / (uint64_t)trials));

    uint32_t seeds_acc = 0;
    for (uint32_t s = 0; s < 64; ++s) seeds_acc = seeds_acc * 31u + murmur_like("optgym", 6, s);
    printf("seeds=%08x empty=%08x abc=%08x\n", (unsigned)seeds_acc, (unsigned)murmur_like("", 0, 0),
           (unsigned)murmur_like("abc", 3, 0));
    return 0;
}
