/* optgym-builtin: In-place heapsort with sift-down and a bottom-up variant, plus a d-ary heap partial sort for top-k selection over generated data. Style: loop-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rand32(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}

static size_t left_child(size_t i) { return 2 * i + 1; }
static size_t right_child(size_t i) { return 2 * i + 2; }
static size_t parent_of(size_t i) { return (i - 1) / 2; }

static unsigned long swaps;

static void swap_u(uint32_t *a, size_t i, size_t j)
{
    uint32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
    swaps++;
}

static void sift_down(uint32_t *a, size_t i, size_t n)
{
    for (;;) {
        size_t l = left_child(i), r = right_child(i), big = i;
        if (l < n && a[l] > a[big]) big = l;
        if (r < n && a[r] > a[big]) big = r;
        if (big == i) return;
        swap_u(a, i, big);
        i = big;
    }
}

static void heapify(uint32_t *a, size_t n)
{
    if (n < 2) return;
    for (size_t i = parent_of(n - 1) + 1; i-- > 0;) sift_down(a, i, n);
}

static void heapsort_classic(uint32_t *a, size_t n)
{
    heapify(a, n);
    for (size_t end = n; end > 1; --end) {
        swap_u(a, 0, end - 1);
        sift_down(a, 0, end - 1);
    }
}

/* Floyd's variant: walk to a leaf along the larger children, then climb back. */
static size_t leaf_search(const uint32_t *a, size_t n)
{
    size_t j = 0;
    while (right_child(j) < n) j = a[right_child(j)] > a[left_child(j)] ? right_child(j) : left_child(j);
    if (left_child(j) < n) j = left_child(j);
    return j;
}

static void sift_down_bottomup(uint32_t *a, size_t n)
{
    size_t j = leaf_search(a, n);
    while (a[0] > a[j]) j = parent_of(j);
    uint32_t x = a[j];
    a[j] = a[0];
    while (j > 0) {
        size_t p = parent_of(j);
        uint32_t t = a[p];
        a[p] = x;
        x = t;
        j = p;
    }
}

static void heapsort_bottomup(uint32_t *a, size_t n)
{
    heapify(a, n);
    for (size_t end = n; end > 1; --end) {
        swap_u(a, 0, end - 1);
        if (end - 1 > 1) sift_down_bottomup(a, end - 1);
    }
}

/* min-heap with arity D, used to keep the K largest elements */
#define D 4
static void dheap_sift_down(uint32_t *h, size_t i, size_t n)
{
    for (;;) {
        size_t best = i;
        for (size_t c = D * i + 1; c <= D * i + D && c < n; ++c)
            if (h[c] < h[best]) best = c;
        if (best == i) return;
        uint32_t t = h[i];
        h[i] = h[best];
        h[best] = t;
        i = best;
    }
}

static void dheap_sift_up(uint32_t *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / D;
        if (h[p] <= h[i]) return;
        uint32_t t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static size_t top_k(const uint32_t *a, size_t n, uint32_t *h, size_t k)
{
    size_t sz = 0;
    for (size_t i = 0; i < n; ++i) {
        if (sz < k) {
            h[sz] = a[i];
            dheap_sift_up(h, sz++);
        } else if (a[i] > h[0]) {
            h[0] = a[i];
            dheap_sift_down(h, 0, sz);
        }
    }
    return sz;
}

static int check_sorted(const uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; ++i)
        if (a[i - 1] > a[i]) return 0;
    return 1;
}

static uint32_t fold(const uint32_t *a, size_t n)
{
    uint32_t h = 0x811C9DC5u;
    for (size_t i = 0; i < n; ++i) h = (h ^ a[i]) * 0x01000193u;
    return h;
}

int main(void)
{
    enum { N = 4096, K = 50 };
    uint32_t *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *h = malloc(K * sizeof *h);
    if (!a || !b || !h) return 1;
    for (int round = 0; round < 4; ++round) {
        size_t n = N - (size_t)round * 777;
        for (size_t i = 0; i < n; ++i) {
            uint32_t v = rand32();
            a[i] = round == 3 ? v % 10u : v;
            b[i] = a[i];
        }
        size_t kk = top_k(a, n, h, K);
        uint32_t kth = h[0];
        swaps = 0;
        heapsort_classic(a, n);
        unsigned long s1 = swaps;
        swaps = 0;
        heapsort_bottomup(b, n);
        unsigned long s2 = swaps;
        int equal = 1;
        for (size_t i = 0; i < n; ++i)
            if (a[i] != b[i]) equal = 0;
        printf("round %d n=%zu sorted=%d equal=%d swaps=%lu/%lu kth=%u check=%d fold=%08x\n", round, n,
               check_sorted(a, n), equal, s1, s2, (unsigned)kth, a[n - kk] == kth,
               (unsigned)fold(a, n));
    }
    free(a);
    free(b);
    free(h);
    return 0;
}
