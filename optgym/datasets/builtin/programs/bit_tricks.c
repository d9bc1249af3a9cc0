/* optgym-builtin: Bit-manipulation toolkit (popcount, count leading/trailing zeros, bit reversal, Gray code, next bit permutation, parity, rotate, Morton interleave) cross-checked against naive loops. Style: bit-twiddling, many-small-functions, loop-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t seed = 0x9E3779B97F4A7C15ull;

static uint64_t splitmix(void)
{
    uint64_t z = (seed += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int popcount_swar(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (int)((x * 0x01010101u) >> 24);
}

static int popcount_kernighan(uint32_t x)
{
    int n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

static int popcount_naive(uint32_t x)
{
    int n = 0;
    for (int i = 0; i < 32; i++)
        n += (int)((x >> i) & 1u);
    return n;
}

static int clz_binary(uint32_t x)
{
    if (x == 0)
        return 32;
    int n = 0;
    if (x <= 0x0000FFFFu) { n += 16; x <<= 16; }
    if (x <= 0x00FFFFFFu) { n += 8; x <<= 8; }
    if (x <= 0x0FFFFFFFu) { n += 4; x <<= 4; }
    if (x <= 0x3FFFFFFFu) { n += 2; x <<= 2; }
    if (x <= 0x7FFFFFFFu) { n += 1; }
    return n;
}

static int clz_naive(uint32_t x)
{
    int n = 0;
    for (int i = 31; i >= 0 && !((x >> i) & 1u); i--)
        n++;
    return n;
}

static int ctz_debruijn(uint32_t x)
{
    static const int table[32] = {0,  1,  28, 2,  29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4,  8,
                                  31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6,  11, 5,  10, 9};
    if (x == 0)
        return 32;
    return table[((x & (0u - x)) * 0x077CB531u) >> 27];
}

static int ctz_naive(uint32_t x)
{
    int n = 0;
    while (n < 32 && !((x >> n) & 1u))
        n++;
    return n;
}

static uint32_t reverse_bits(uint32_t x)
{
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
    x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
    return (x >> 16) | (x << 16);
}

static uint32_t reverse_naive(uint32_t x)
{
    uint32_t r = 0;
    for (int i = 0; i < 32; i++)
        r |= ((x >> i) & 1u) << (31 - i);
    return r;
}

static uint32_t to_gray(uint32_t x) { return x ^ (x >> 1); }

static uint32_t from_gray(uint32_t g)
{
    g ^= g >> 16;
    g ^= g >> 8;
    g ^= g >> 4;
    g ^= g >> 2;
    g ^= g >> 1;
    return g;
}

static uint32_t next_bit_permutation(uint32_t v)
{
    uint32_t t = v | (v - 1);
    return (t + 1) | (((~t & (0u - ~t)) - 1) >> (ctz_debruijn(v) + 1));
}

static int parity(uint32_t x)
{
    x ^= x >> 16;
    x ^= x >> 8;
    x ^= x >> 4;
    return (int)((0x6996u >> (x & 0xFu)) & 1u);
}

static uint32_t rotl32(uint32_t x, unsigned r) { return (x << (r & 31u)) | (x >> ((32u - r) & 31u)); }
static uint32_t rotr32(uint32_t x, unsigned r) { return (x >> (r & 31u)) | (x << ((32u - r) & 31u)); }

static uint32_t spread_bits16(uint32_t x)
{
    x &= 0xFFFFu;
    x = (x | (x << 8)) & 0x00FF00FFu;
    x = (x | (x << 4)) & 0x0F0F0F0Fu;
    x = (x | (x << 2)) & 0x33333333u;
    x = (x | (x << 1)) & 0x55555555u;
    return x;
}

static uint32_t compact_bits(uint32_t x)
{
    x &= 0x55555555u;
    x = (x | (x >> 1)) & 0x33333333u;
    x = (x | (x >> 2)) & 0x0F0F0F0Fu;
    x = (x | (x >> 4)) & 0x00FF00FFu;
    x = (x | (x >> 8)) & 0x0000FFFFu;
    return x;
}

static uint32_t morton2(uint32_t x, uint32_t y) { return spread_bits16(x) | (spread_bits16(y) << 1); }

static int is_pow2(uint32_t x) { return x && !(x & (x - 1)); }

static uint32_t round_up_pow2(uint32_t x)
{
    if (x <= 1)
        return 1;
    x--;
    x |= x >> 1;
    x |= x >> 2;
    x |= x >> 4;
    x |= x >> 8;
    x |= x >> 16;
    return x + 1;
}

static uint32_t abs_branchless(int32_t v)
{
    uint32_t m = (uint32_t)(v >> 31);
    return ((uint32_t)v ^ m) - m;
}

int main(void)
{
    int errors = 0;
    uint32_t acc = 0;
    uint64_t popsum = 0;

    for (int i = 0; i < 20000; i++) {
        uint64_t r = splitmix();
        uint32_t x = (uint32_t)r;
        /* Sparse and dense values to exercise the edge cases too. */
        if ((i & 7) == 1)
            x &= (uint32_t)(r >> 32);
        if ((i & 7) == 2)
            x |= (uint32_t)(r >> 32);
        if ((i & 63) == 3)
            x = 0;
        int p = popcount_swar(x);
        if (p != popcount_kernighan(x) || p != popcount_naive(x))
            errors++;
        if (clz_binary(x) != clz_naive(x))
            errors++;
        if (ctz_debruijn(x) != ctz_naive(x))
            errors++;
        if (reverse_bits(x) != reverse_naive(x))
            errors++;
        if (from_gray(to_gray(x)) != x)
            errors++;
        if (parity(x) != (p & 1))
            errors++;
        if (rotr32(rotl32(x, (unsigned)i), (unsigned)i) != x)
            errors++;
        uint32_t mx = x & 0xFFFFu, my = x >> 16;
        uint32_t m = morton2(mx, my);
        if (compact_bits(m) != mx || compact_bits(m >> 1) != my)
            errors++;
        popsum += (uint64_t)p;
        acc = rotl32(acc, 5) ^ reverse_bits(x) ^ to_gray(x) ^ m;
        acc += (uint32_t)clz_binary(x) * 7u + (uint32_t)ctz_debruijn(x);
    }

    /* Gray code successive values differ by exactly one bit. */
    int gray_ok = 1;
    for (uint32_t i = 0; i < 4096; i++)
        if (popcount_swar(to_gray(i) ^ to_gray(i + 1)) != 1)
            gray_ok = 0;

    /* Enumerate all 12-bit words with 5 bits set: must be C(12,5) = 792. */
    unsigned count = 0;
    uint32_t permhash = 0;
    for (uint32_t v = 0x1Fu; v < (1u << 12); v = next_bit_permutation(v)) {
        count++;
        permhash = permhash * 33u + v;
    }

    unsigned pow2 = 0;
    uint32_t rsum = 0;
    for (uint32_t i = 0; i < 5000; i++) {
        pow2 += (unsigned)is_pow2(i);
        rsum += round_up_pow2(i * 37u + 1u);
        rsum ^= abs_branchless((int32_t)(i * 2654435761u));
    }

    printf("errors=%d popsum=%llu acc=%08x\n", errors, (unsigned long long)popsum, (unsigned)acc);
    printf("gray_ok=%d combos=%u permhash=%08x\n", gray_ok, count, (unsigned)permhash);
    printf("pow2=%u rsum=%08x\n", pow2, (unsigned)rsum);
    return 0;
}
