/* optgym-builtin: Binary, lower/upper-bound, interpolation and exponential search over sorted generated arrays, with probe counting and cross-checks. Style: loop-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

static uint32_t lcg = 7u;

static uint32_t next(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return lcg >> 4;
}

typedef struct {
    unsigned long probes;
    unsigned long found;
} Stats;

static long binary_search(const int32_t *a, long n, int32_t key, Stats *s)
{
    long lo = 0, hi = n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        s->probes++;
        if (a[mid] == key) {
            s->found++;
            return mid;
        }
        if (a[mid] < key) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static long lower_bound(const int32_t *a, long n, int32_t key)
{
    long lo = 0, len = n;
    while (len > 0) {
        long half = len / 2;
        if (a[lo + half] < key) {
            lo += half + 1;
            len -= half + 1;
        } else {
            len = half;
        }
    }
    return lo;
}

static long upper_bound(const int32_t *a, long n, int32_t key)
{
    long lo = 0, hi = n;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] <= key) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static long interpolation_search(const int32_t *a, long n, int32_t key, Stats *s)
{
    long lo = 0, hi = n - 1;
    while (lo <= hi && key >= a[lo] && key <= a[hi]) {
        s->probes++;
        long pos;
        if (a[hi] == a[lo]) {
            pos = lo;
        } else {
            int64_t num = (int64_t)(key - a[lo]) * (hi - lo);
            pos = lo + (long)(num / ((int64_t)a[hi] - a[lo]));
        }
        if (a[pos] == key) {
            /* step back to the first occurrence so results agree with lower_bound */
            while (pos > 0 && a[pos - 1] == key) pos--;
            s->found++;
            return pos;
        }
        if (a[pos] < key) lo = pos + 1;
        else hi = pos - 1;
    }
    return -1;
}

static long exponential_search(const int32_t *a, long n, int32_t key, Stats *s)
{
    if (n == 0) return -1;
    long bound = 1;
    while (bound < n && a[bound] < key) {
        s->probes++;
        bound *= 2;
    }
    long lo = bound / 2;
    long hi = bound < n ? bound + 1 : n;
    long idx = lower_bound(a + lo, hi - lo, key) + lo;
    s->probes++;
    if (idx < n && a[idx] == key) {
        s->found++;
        return idx;
    }
    return -1;
}

static int cmp_i32(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

static void build_uniform(int32_t *a, long n)
{
    int32_t v = 0;
    for (long i = 0; i < n; ++i) {
        v += (int32_t)(next() % 7u);
        a[i] = v;
    }
}

static void build_skewed(int32_t *a, long n)
{
    for (long i = 0; i < n; ++i) {
        uint32_t r = next() % 1000u;
        a[i] = (int32_t)(r * r / 10u);
    }
    qsort(a, (size_t)n, sizeof(int32_t), cmp_i32);
}

static void run(const char *name, const int32_t *a, long n)
{
    Stats sb = {0, 0}, si = {0, 0}, se = {0, 0};
    long agree = 0, range_total = 0;
    int32_t maxv = a[n - 1];
    for (int q = 0; q < 3000; ++q) {
        int32_t key = (int32_t)(next() % (uint32_t)(maxv + 2));
        long b = binary_search(a, n, key, &sb);
        long i = interpolation_search(a, n, key, &si);
        long e = exponential_search(a, n, key, &se);
        long lb = lower_bound(a, n, key), ub = upper_bound(a, n, key);
        range_total += ub - lb;
        int bf = b >= 0, inl = lb < n && a[lb] == key;
        if (bf == inl && (i < 0 ? !inl : i == lb) && (e < 0 ? !inl : e == lb)) agree++;
    }
    printf("%s: n=%ld found=%lu/%lu/%lu probes=%lu/%lu/%lu agree=%ld dup=%ld\n", name, n, sb.found,
           si.found, se.found, sb.probes, si.probes, se.probes, agree, range_total);
}

int main(void)
{
    enum { N = 20000 };
    int32_t *a = malloc(N * sizeof *a);
    if (!a) return 1;
    build_uniform(a, N);
    run("uniform", a, N);
    build_skewed(a, N);
    run("skewed", a, N);
    build_uniform(a, 1000);
    run("small", a, 1000);
    free(a);
    return 0;
}
