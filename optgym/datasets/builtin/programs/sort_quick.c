/* optgym-builtin: Quicksort with median-of-three pivoting and an insertion-sort cutoff over several generated integer and record arrays. Style: recursive, loop-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CUTOFF 12

typedef struct {
    uint32_t key;
    uint32_t payload;
} Record;

static uint32_t lcg_state = 12345u;

static uint32_t next_rand(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 8) & 0xFFFFFFu;
}

static void swap_int(int *a, int *b)
{
    int t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(int *lo, int *hi)
{
    for (int *p = lo + 1; p <= hi; ++p) {
        int v = *p;
        int *q = p;
        while (q > lo && *(q - 1) > v) {
            *q = *(q - 1);
            --q;
        }
        *q = v;
    }
}

static int *median_of_three(int *a, int *b, int *c)
{
    if (*a < *b) {
        if (*b < *c) return b;
        return (*a < *c) ? c : a;
    }
    if (*a < *c) return a;
    return (*b < *c) ? c : b;
}

static unsigned long comparisons;

static int *partition(int *lo, int *hi)
{
    int *mid = lo + (hi - lo) / 2;
    int *m = median_of_three(lo, mid, hi);
    swap_int(m, hi);
    int pivot = *hi;
    int *store = lo;
    for (int *p = lo; p < hi; ++p) {
        comparisons++;
        if (*p < pivot) {
            swap_int(p, store);
            ++store;
        }
    }
    swap_int(store, hi);
    return store;
}

static void quicksort(int *lo, int *hi, int depth, int *max_depth)
{
    while (hi - lo > CUTOFF) {
        if (depth > *max_depth) *max_depth = depth;
        int *p = partition(lo, hi);
        /* recurse into the smaller side to bound the stack */
        if (p - lo < hi - p) {
            quicksort(lo, p - 1, depth + 1, max_depth);
            lo = p + 1;
        } else {
            quicksort(p + 1, hi, depth + 1, max_depth);
            hi = p - 1;
        }
        depth++;
    }
    if (hi > lo) insertion_sort(lo, hi);
}

static int record_less(const Record *a, const Record *b)
{
    if (a->key != b->key) return a->key < b->key;
    return a->payload < b->payload;
}

static void record_quicksort(Record *r, int lo, int hi)
{
    while (hi - lo > CUTOFF) {
        int mid = lo + (hi - lo) / 2;
        Record pivot = r[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (record_less(&r[i], &pivot)) i++;
            while (record_less(&pivot, &r[j])) j--;
            if (i <= j) {
                Record t = r[i];
                r[i] = r[j];
                r[j] = t;
                i++;
                j--;
            }
        }
        if (j - lo < hi - i) {
            record_quicksort(r, lo, j);
            lo = i;
        } else {
            record_quicksort(r, i, hi);
            hi = j;
        }
    }
    for (int i = lo + 1; i <= hi; ++i) {
        Record v = r[i];
        int k = i;
        while (k > lo && record_less(&v, &r[k - 1])) {
            r[k] = r[k - 1];
            k--;
        }
        r[k] = v;
    }
}

static int is_sorted(const int *a, int n)
{
    for (int i = 1; i < n; ++i)
        if (a[i - 1] > a[i]) return 0;
    return 1;
}

static uint32_t checksum(const int *a, int n)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; ++i) {
        h ^= (uint32_t)a[i];
        h *= 16777619u;
    }
    return h;
}

static void fill(int *a, int n, int pattern)
{
    for (int i = 0; i < n; ++i) {
        switch (pattern) {
        case 0: a[i] = (int)next_rand() - 0x800000; break;
        case 1: a[i] = i * 3; break;
        case 2: a[i] = n - i; break;
        case 3: a[i] = (int)(next_rand() % 17u); break;
        default: a[i] = (i % 2) ? i : -i; break;
        }
    }
}

int main(void)
{
    enum { N = 6000, NR = 3000 };
    int *a = malloc(sizeof(int) * N);
    Record *r = malloc(sizeof(Record) * NR);
    if (!a || !r) return 1;
    uint32_t total = 0;
    for (int pattern = 0; pattern < 5; ++pattern) {
        fill(a, N, pattern);
        comparisons = 0;
        int max_depth = 0;
        quicksort(a, a + N - 1, 0, &max_depth);
        uint32_t c = checksum(a, N);
        printf("pattern %d: sorted=%d min=%d max=%d median=%d cmp=%lu depth=%d sum=%08x\n",
               pattern, is_sorted(a, N), a[0], a[N - 1], a[N / 2], comparisons, max_depth,
               (unsigned)c);
        total = total * 31u + c;
    }
    for (int i = 0; i < NR; ++i) {
        r[i].key = next_rand() % 500u;
        r[i].payload = next_rand();
    }
    record_quicksort(r, 0, NR - 1);
    int ok = 1;
    uint32_t rh = 0;
    for (int i = 0; i < NR; ++i) {
        if (i > 0 && record_less(&r[i], &r[i - 1])) ok = 0;
        rh = rh * 131u + r[i].key * 7u + r[i].payload;
    }
    printf("records: sorted=%d first=%u last=%u hash=%08x\n", ok, (unsigned)r[0].key,
           (unsigned)r[NR - 1].key, (unsigned)rh);
    printf("total=%08x\n", (unsigned)total);
    free(a);
    free(r);
    return 0;
}
