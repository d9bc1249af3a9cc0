/* optgym-builtin: Substring search by naive scanning, Knuth-Morris-Pratt, Boyer-Moore-Horspool and Rabin-Karp over generated texts with small and large alphabets, all cross-checked and counting character comparisons. Style: string-processing, loop-heavy, pointer-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEXTLEN 20000
#define MAXPAT 64
#define MAXHITS 4096

typedef struct {
    int hits[MAXHITS];
    int nhits;
    long comparisons;
} Result;

typedef void (*SearchFn)(const char *text, int n, const char *pat, int m, Result *r);

static uint32_t st = 13u;

static uint32_t rnd(void)
{
    st = st * 747796405u + 2891336453u;
    uint32_t w = ((st >> ((st >> 28) + 4u)) ^ st) * 277803737u;
    return (w >> 22) ^ w;
}

static void add_hit(Result *r, int pos)
{
    if (r->nhits < MAXHITS)
        r->hits[r->nhits] = pos;
    r->nhits++;
}

static int eq(char a, char b, long *cmp)
{
    ++*cmp;
    return a == b;
}

static void search_naive(const char *t, int n, const char *p, int m, Result *r)
{
    for (int i = 0; i + m <= n; i++) {
        int j = 0;
        while (j < m && eq(t[i + j], p[j], &r->comparisons))
            j++;
        if (j == m)
            add_hit(r, i);
    }
}

static void kmp_failure(const char *p, int m, int *fail)
{
    fail[0] = 0;
    int k = 0;
    for (int i = 1; i < m; i++) {
        while (k > 0 && p[i] != p[k])
            k = fail[k - 1];
        if (p[i] == p[k])
            k++;
        fail[i] = k;
    }
}

static void search_kmp(const char *t, int n, const char *p, int m, Result *r)
{
    int fail[MAXPAT];
    kmp_failure(p, m, fail);
    int k = 0;
    for (int i = 0; i < n; i++) {
        while (k > 0 && !eq(t[i], p[k], &r->comparisons))
            k = fail[k - 1];
        if (k == 0 && !eq(t[i], p[0], &r->comparisons))
            continue;
        k++;
        if (k == m) {
            add_hit(r, i - m + 1);
            k = fail[k - 1];
        }
    }
}

static void search_horspool(const char *t, int n, const char *p, int m, Result *r)
{
    int shift[256];
    for (int c = 0; c < 256; c++)
        shift[c] = m;
    for (int i = 0; i < m - 1; i++)
        shift[(unsigned char)p[i]] = m - 1 - i;
    int i = 0;
    while (i + m <= n) {
        int j = m - 1;
        while (j >= 0 && eq(t[i + j], p[j], &r->comparisons))
            j--;
        if (j < 0)
            add_hit(r, i);
        i += shift[(unsigned char)t[i + m - 1]];
    }
}

static void search_rabin_karp(const char *t, int n, const char *p, int m, Result *r)
{
    const uint32_t base = 257u;
    uint32_t hp = 0, ht = 0, pow = 1;
    if (m > n)
        return;
    for (int i = 0; i < m; i++) {
        hp = hp * base + (unsigned char)p[i];
        ht = ht * base + (unsigned char)t[i];
        if (i)
            pow *= base;
    }
    for (int i = 0;; i++) {
        if (hp == ht) {
            int j = 0;
            while (j < m && eq(t[i + j], p[j], &r->comparisons))
                j++;
            if (j == m)
                add_hit(r, i);
        }
        if (i + m >= n)
            break;
        ht = (ht - (unsigned char)t[i] * pow) * base + (unsigned char)t[i + m];
    }
}

static void gen_text(char *t, int n, const char *alphabet, int k)
{
    for (int i = 0; i < n; i++)
        t[i] = alphabet[rnd() % (uint32_t)k];
    t[n] = '\0';
}

/* Periodic text makes KMP and naive search diverge in cost. */
static void gen_periodic(char *t, int n, const char *unit, int noise)
{
    int u = (int)strlen(unit);
    for (int i = 0; i < n; i++)
        t[i] = unit[i % u];
    for (int k = 0; k < noise; k++)
        t[rnd() % (uint32_t)n] = 'z';
    t[n] = '\0';
}

static int same_hits(const Result *a, const Result *b)
{
    if (a->nhits != b->nhits)
        return 0;
    int n = a->nhits < MAXHITS ? a->nhits : MAXHITS;
    return memcmp(a->hits, b->hits, sizeof(int) * (size_t)n) == 0;
}

int main(void)
{
    static char text[TEXTLEN + 1];
    static Result res[4];
    static const SearchFn fns[4] = {search_naive, search_kmp, search_horspool, search_rabin_karp};
    static const char *names[4] = {"naive", "kmp", "bmh", "rk"};
    char pat[MAXPAT + 1];
    long totals[4] = {0};
    int mismatches = 0, cases = 0;
    uint32_t h = 0;

    for (int tc = 0; tc < 24; tc++) {
        int kind = tc % 4;
        int m = 0;
        switch (kind) {
        case 0:
            gen_text(text, TEXTLEN, "ab", 2);
            m = 3 + tc % 9;
            break;
        case 1:
            gen_text(text, TEXTLEN, "ACGT", 4);
            m = 4 + tc % 12;
            break;
        case 2:
            gen_text(text, TEXTLEN, "abcdefghijklmnopqrstuvwxyz      ", 32);
            m = 2 + tc % 6;
            break;
        default:
            gen_periodic(text, TEXTLEN, "aaaab", 10 + tc);
            m = 9 + tc % 11;
            break;
        }
        /* Take the pattern from the text half of the time so there are hits. */
        if (tc % 2 == 0) {
            int at = (int)(rnd() % (uint32_t)(TEXTLEN - m));
            memcpy(pat, text + at, (size_t)m);
        } else {
            for (int i = 0; i < m; i++)
                pat[i] = text[rnd() % TEXTLEN];
        }
        pat[m] = '\0';
        for (int f = 0; f < 4; f++) {
            memset(&res[f], 0, sizeof res[f]);
            fns[f](text, TEXTLEN, pat, m, &res[f]);
            totals[f] += res[f].comparisons;
        }
        cases++;
        for (int f = 1; f < 4; f++)
            if (!same_hits(&res[0], &res[f]))
                mismatches++;
        h = h * 31u + (uint32_t)res[0].nhits;
        if (res[0].nhits > 0)
            h ^= (uint32_t)res[0].hits[0] * 2654435761u;
        if (tc < 8)
            printf("case %2d m=%2d hits=%4d cmp naive=%ld kmp=%ld bmh=%ld rk=%ld\n", tc, m, res[0].nhits,
                   res[0].comparisons, res[1].comparisons, res[2].comparisons, res[3].comparisons);
    }
    printf("cases=%d mismatches=%d hash=%08x\n", cases, mismatches, (unsigned)h);
    for (int f = 0; f < 4; f++)
        printf("%-5s total comparisons=%ld\n", names[f], totals[f]);
    return 0;
}
