/* optgym-builtin: LSD radix sort on uint32 keys with 8-bit and 11-bit digits, a signed-key adapter, and a key-index sort of records, checked against counting statistics. Style: loop-heavy, bit-twiddling */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t st = 2463534242u;

static uint32_t xorshift(void)
{
    st ^= st << 13;
    st ^= st >> 17;
    st ^= st << 5;
    return st;
}

static void radix_sort8(uint32_t *a, uint32_t *tmp, size_t n)
{
    size_t count[256];
    uint32_t *src = a, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; ++i) count[(src[i] >> shift) & 0xFFu]++;
        size_t sum = 0;
        for (int d = 0; d < 256; ++d) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; ++i) dst[count[(src[i] >> shift) & 0xFFu]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    /* four passes: result is back in a */
}

static void radix_sort11(uint32_t *a, uint32_t *tmp, size_t n)
{
    enum { BITS = 11, BUCKETS = 1 << BITS };
    static size_t hist[3][BUCKETS];
    memset(hist, 0, sizeof hist);
    /* one pass computes all three histograms */
    for (size_t i = 0; i < n; ++i) {
        uint32_t v = a[i];
        hist[0][v & (BUCKETS - 1)]++;
        hist[1][(v >> 11) & (BUCKETS - 1)]++;
        hist[2][v >> 22]++;
    }
    for (int p = 0; p < 3; ++p) {
        size_t sum = 0;
        for (int d = 0; d < BUCKETS; ++d) {
            size_t c = hist[p][d];
            hist[p][d] = sum;
            sum += c;
        }
    }
    uint32_t *src = a, *dst = tmp;
    for (int p = 0; p < 3; ++p) {
        int shift = p * BITS;
        for (size_t i = 0; i < n; ++i) {
            uint32_t v = src[i];
            dst[hist[p][(v >> shift) & (BUCKETS - 1)]++] = v;
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof(uint32_t));
}

static uint32_t flip_sign(int32_t x) { return (uint32_t)x ^ 0x80000000u; }
static int32_t unflip_sign(uint32_t u) { return (int32_t)(u ^ 0x80000000u); }

static void radix_sort_signed(int32_t *a, size_t n)
{
    uint32_t *u = malloc(n * sizeof *u), *t = malloc(n * sizeof *t);
    if (!u || !t) {
        free(u);
        free(t);
        return;
    }
    for (size_t i = 0; i < n; ++i) u[i] = flip_sign(a[i]);
    radix_sort8(u, t, n);
    for (size_t i = 0; i < n; ++i) a[i] = unflip_sign(u[i]);
    free(u);
    free(t);
}

typedef struct {
    uint16_t bucket;
    uint16_t id;
    uint32_t weight;
} Item;

static void key_index_sort(const Item *in, Item *out, size_t n, int nbuckets)
{
    size_t *cnt = calloc((size_t)nbuckets + 1, sizeof *cnt);
    if (!cnt) return;
    for (size_t i = 0; i < n; ++i) cnt[in[i].bucket + 1]++;
    for (int b = 0; b < nbuckets; ++b) cnt[b + 1] += cnt[b];
    for (size_t i = 0; i < n; ++i) out[cnt[in[i].bucket]++] = in[i];
    free(cnt);
}

static int popcount32(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    return (int)((((v + (v >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24);
}

int main(void)
{
    enum { N = 8192 };
    uint32_t *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *t = malloc(N * sizeof *t);
    int32_t *s = malloc(N * sizeof *s);
    Item *items = malloc(N * sizeof *items), *sorted = malloc(N * sizeof *sorted);
    if (!a || !b || !t || !s || !items || !sorted) return 1;

    uint64_t bits_before = 0;
    for (size_t i = 0; i < N; ++i) {
        a[i] = b[i] = xorshift();
        bits_before += (uint64_t)popcount32(a[i]);
    }
    radix_sort8(a, t, N);
    radix_sort11(b, t, N);
    int ok = 1, same = 1;
    uint64_t bits_after = 0;
    uint32_t h = 0;
    for (size_t i = 0; i < N; ++i) {
        if (i && a[i - 1] > a[i]) ok = 0;
        if (a[i] != b[i]) same = 0;
        bits_after += (uint64_t)popcount32(a[i]);
        h = (h * 0x9E3779B1u) ^ a[i];
    }
    printf("u32: sorted=%d same=%d bits=%llu/%llu min=%u max=%u h=%08x\n", ok, same,
           (unsigned long long)bits_before, (unsigned long long)bits_after, (unsigned)a[0],
           (unsigned)a[N - 1], (unsigned)h);

    for (size_t i = 0; i < N; ++i) s[i] = (int32_t)(xorshift() % 2000001u) - 1000000;
    radix_sort_signed(s, N);
    ok = 1;
    int64_t sum = 0;
    for (size_t i = 0; i < N; ++i) {
        if (i && s[i - 1] > s[i]) ok = 0;
        sum += s[i];
    }
    printf("i32: sorted=%d min=%d max=%d median=%d sum=%lld\n", ok, (int)s[0], (int)s[N - 1],
           (int)s[N / 2], (long long)sum);

    for (size_t i = 0; i < N; ++i) {
        items[i].bucket = (uint16_t)(xorshift() % 97u);
        items[i].id = (uint16_t)i;
        items[i].weight = xorshift() & 0xFFFFu;
    }
    key_index_sort(items, sorted, N, 97);
    ok = 1;
    uint32_t ih = 1;
    for (size_t i = 1; i < N; ++i) {
        if (sorted[i - 1].bucket > sorted[i].bucket) ok = 0;
        if (sorted[i - 1].bucket == sorted[i].bucket && sorted[i - 1].id > sorted[i].id) ok = 0;
    }
    for (size_t i = 0; i < N; ++i) ih = ih * 31u + sorted[i].weight + sorted[i].id;
    printf("items: stable=%d h=%08x\n", ok, (unsigned)ih);
    free(a);
    free(b);
    free(t);
    free(s);
    free(items);
    free(sorted);
    return 0;
}
