/* optgym-builtin: Top-down recursive and bottom-up iterative mergesort over generated integers and key/value pairs, cross-checked for stability. Style: recursive, loop-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int key;
    int seq;
} Pair;

static uint32_t seed = 0xC0FFEEu;

static uint32_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
}

static void merge_ints(const int *src, int *dst, size_t lo, size_t mid, size_t hi)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        if (src[j] < src[i]) dst[k++] = src[j++];
        else dst[k++] = src[i++];
    }
    while (i < mid) dst[k++] = src[i++];
    while (j < hi) dst[k++] = src[j++];
}

static void topdown_rec(int *a, int *tmp, size_t lo, size_t hi)
{
    if (hi - lo < 2) return;
    size_t mid = lo + (hi - lo) / 2;
    topdown_rec(a, tmp, lo, mid);
    topdown_rec(a, tmp, mid, hi);
    if (a[mid - 1] <= a[mid]) return; /* already ordered */
    merge_ints(a, tmp, lo, mid, hi);
    memcpy(a + lo, tmp + lo, (hi - lo) * sizeof(int));
}

static void mergesort_topdown(int *a, size_t n)
{
    int *tmp = malloc(n * sizeof(int));
    if (!tmp) return;
    topdown_rec(a, tmp, 0, n);
    free(tmp);
}

static void mergesort_bottomup(int *a, size_t n)
{
    int *buf = malloc(n * sizeof(int));
    if (!buf) return;
    int *src = a, *dst = buf;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            merge_ints(src, dst, lo, mid, hi);
        }
        int *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof(int));
    free(buf);
}

static void merge_pairs(Pair *a, Pair *tmp, size_t lo, size_t mid, size_t hi)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) tmp[k++] = (a[j].key < a[i].key) ? a[j++] : a[i++];
    while (i < mid) tmp[k++] = a[i++];
    while (j < hi) tmp[k++] = a[j++];
    for (k = lo; k < hi; ++k) a[k] = tmp[k];
}

static void pair_sort(Pair *a, Pair *tmp, size_t lo, size_t hi)
{
    if (hi - lo <= 8) {
        for (size_t i = lo + 1; i < hi; ++i) {
            Pair v = a[i];
            size_t j = i;
            while (j > lo && v.key < a[j - 1].key) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = v;
        }
        return;
    }
    size_t mid = lo + (hi - lo) / 2;
    pair_sort(a, tmp, lo, mid);
    pair_sort(a, tmp, mid, hi);
    merge_pairs(a, tmp, lo, mid, hi);
}

static long count_inversions(int *a, int *tmp, size_t lo, size_t hi)
{
    if (hi - lo < 2) return 0;
    size_t mid = lo + (hi - lo) / 2;
    long inv = count_inversions(a, tmp, lo, mid) + count_inversions(a, tmp, mid, hi);
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        if (a[j] < a[i]) {
            inv += (long)(mid - i);
            tmp[k++] = a[j++];
        } else {
            tmp[k++] = a[i++];
        }
    }
    while (i < mid) tmp[k++] = a[i++];
    while (j < hi) tmp[k++] = a[j++];
    memcpy(a + lo, tmp + lo, (hi - lo) * sizeof(int));
    return inv;
}

static uint32_t digest(const int *a, size_t n)
{
    uint32_t h = 0;
    for (size_t i = 0; i < n; ++i) h = (h << 5 | h >> 27) ^ (uint32_t)a[i];
    return h;
}

int main(void)
{
    enum { N = 5000, NP = 2000 };
    int *a = malloc(N * sizeof(int));
    int *b = malloc(N * sizeof(int));
    int *c = malloc(N * sizeof(int));
    int *t = malloc(N * sizeof(int));
    Pair *p = malloc(NP * sizeof(Pair));
    Pair *pt = malloc(NP * sizeof(Pair));
    if (!a || !b || !c || !t || !p || !pt) return 1;

    for (int round = 0; round < 3; ++round) {
        size_t n = (size_t)(N - round * 1234);
        for (size_t i = 0; i < n; ++i) a[i] = (int)(rnd() % 100000u) - 50000;
        memcpy(b, a, n * sizeof(int));
        memcpy(c, a, n * sizeof(int));
        long inv = count_inversions(c, t, 0, n);
        mergesort_topdown(a, n);
        mergesort_bottomup(b, n);
        int same = memcmp(a, b, n * sizeof(int)) == 0 && memcmp(a, c, n * sizeof(int)) == 0;
        printf("round %d n=%zu same=%d inversions=%ld min=%d max=%d digest=%08x\n", round, n, same,
               inv, a[0], a[n - 1], (unsigned)digest(a, n));
    }

    for (int i = 0; i < NP; ++i) {
        p[i].key = (int)(rnd() % 64u);
        p[i].seq = i;
    }
    pair_sort(p, pt, 0, NP);
    int stable = 1;
    uint32_t h = 7;
    for (int i = 1; i < NP; ++i) {
        if (p[i].key < p[i - 1].key) stable = 0;
        if (p[i].key == p[i - 1].key && p[i].seq < p[i - 1].seq) stable = 0;
    }
    for (int i = 0; i < NP; ++i) h = h * 33u + (uint32_t)p[i].seq;
    printf("pairs stable=%d hash=%08x\n", stable, (unsigned)h);
    free(a);
    free(b);
    free(c);
    free(t);
    free(p);
    free(pt);
    return 0;
}
