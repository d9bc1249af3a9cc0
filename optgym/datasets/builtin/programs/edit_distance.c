/* optgym-builtin: Levenshtein, optimal-string-alignment (Damerau) and weighted edit distances with alignment traceback, a banded variant, and nearest-word spelling suggestions over a generated dictionary. Style: string-processing, loop-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXW 24
#define NWORDS 400
#define NQUERIES 120

static uint32_t state = 77777u;

static uint32_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static int min2(int a, int b) { return a < b ? a : b; }
static int min3(int a, int b, int c) { return min2(min2(a, b), c); }

static void random_word(char *w, int len)
{
    static const char consonants[] = "bcdfghklmnprstvz";
    static const char vowels[] = "aeiou";
    for (int i = 0; i < len; i++)
        w[i] = (i & 1) ? vowels[rnd() % 5u] : consonants[rnd() % 16u];
    w[len] = '\0';
}

static void typo(const char *src, char *dst)
{
    int n = (int)strlen(src);
    strcpy(dst, src);
    int edits = 1 + (int)(rnd() % 2u);
    for (int e = 0; e < edits; e++) {
        int pos = n > 0 ? (int)(rnd() % (uint32_t)n) : 0;
        switch (rnd() % 4u) {
        case 0: /* substitution */
            if (n > 0)
                dst[pos] = (char)('a' + rnd() % 26u);
            break;
        case 1: /* deletion */
            if (n > 1) {
                memmove(dst + pos, dst + pos + 1, (size_t)(n - pos));
                n--;
            }
            break;
        case 2: /* insertion */
            if (n < MAXW - 1) {
                memmove(dst + pos + 1, dst + pos, (size_t)(n - pos + 1));
                dst[pos] = (char)('a' + rnd() % 26u);
                n++;
            }
            break;
        default: /* transposition */
            if (pos + 1 < n) {
                char t = dst[pos];
                dst[pos] = dst[pos + 1];
                dst[pos + 1] = t;
            }
            break;
        }
    }
}

static int levenshtein(const char *a, const char *b)
{
    int n = (int)strlen(a), m = (int)strlen(b);
    int prev[MAXW + 1], cur[MAXW + 1];
    for (int j = 0; j <= m; j++)
        prev[j] = j;
    for (int i = 1; i <= n; i++) {
        cur[0] = i;
        for (int j = 1; j <= m; j++)
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]));
        memcpy(prev, cur, sizeof(int) * (size_t)(m + 1));
    }
    return prev[m];
}

static int osa_distance(const char *a, const char *b)
{
    int n = (int)strlen(a), m = (int)strlen(b);
    int d[MAXW + 1][MAXW + 1];
    for (int i = 0; i <= n; i++)
        d[i][0] = i;
    for (int j = 0; j <= m; j++)
        d[0][j] = j;
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = min2(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[n][m];
}

static int is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

/* Substituting a vowel for a vowel is cheap; costs are in tenths. */
static int sub_cost(char x, char y)
{
    if (x == y)
        return 0;
    if (is_vowel(x) && is_vowel(y))
        return 5;
    return 10;
}

typedef struct {
    int cost;
    char ops[2 * MAXW + 2];
} Alignment;

static void weighted_align(const char *a, const char *b, Alignment *al)
{
    int n = (int)strlen(a), m = (int)strlen(b);
    int d[MAXW + 1][MAXW + 1] = {{0}};
    for (int i = 0; i <= n; i++)
        d[i][0] = 8 * i;
    for (int j = 0; j <= m; j++)
        d[0][j] = 12 * j;
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= m; j++)
            d[i][j] = min3(d[i - 1][j] + 8, d[i][j - 1] + 12, d[i - 1][j - 1] + sub_cost(a[i - 1], b[j - 1]));
    al->cost = d[n][m];
    char rev[2 * MAXW + 2];
    int k = 0, i = n, j = m;
    while (i > 0 || j > 0) {
        if (i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + sub_cost(a[i - 1], b[j - 1])) {
            rev[k++] = a[i - 1] == b[j - 1] ? '=' : 'S';
            i--;
            j--;
        } else if (i > 0 && d[i][j] == d[i - 1][j] + 8) {
            rev[k++] = 'D';
            i--;
        } else {
            rev[k++] = 'I';
            j--;
        }
    }
    for (int x = 0; x < k; x++)
        al->ops[x] = rev[k - 1 - x];
    al->ops[k] = '\0';
}

/* Banded Levenshtein: returns band+1 if the distance exceeds the band. */
static int banded(const char *a, const char *b, int band)
{
    int n = (int)strlen(a), m = (int)strlen(b);
    if (abs(n - m) > band)
        return band + 1;
    int big = band + 1;
    int prev[MAXW + 1], cur[MAXW + 1];
    for (int j = 0; j <= m; j++)
        prev[j] = j <= band ? j : big;
    for (int i = 1; i <= n; i++) {
        int lo = i - band > 1 ? i - band : 1;
        int hi = i + band < m ? i + band : m;
        for (int j = 0; j <= m; j++)
            cur[j] = big;
        if (i <= band)
            cur[0] = i;
        for (int j = lo; j <= hi; j++)
            cur[j] = min2(big, min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])));
        memcpy(prev, cur, sizeof(int) * (size_t)(m + 1));
    }
    return min2(prev[m], big);
}

static int suggest(char dict[][MAXW], int n, const char *q, int *dist)
{
    int best = -1, bestd = 1 << 20;
    for (int i = 0; i < n; i++) {
        int d = banded(dict[i], q, 3);
        if (d < bestd) {
            bestd = d;
            best = i;
        }
    }
    *dist = bestd;
    return best;
}

int main(void)
{
    static char dict[NWORDS][MAXW];
    for (int i = 0; i < NWORDS; i++)
        random_word(dict[i], 4 + (int)(rnd() % 9u));

    int hist[8] = {0}, osa_less = 0, band_ok = 0, found = 0;
    uint32_t h = 0;
    for (int q = 0; q < NQUERIES; q++) {
        int target = (int)(rnd() % NWORDS);
        char query[MAXW];
        typo(dict[target], query);
        int lev = levenshtein(dict[target], query);
        int osa = osa_distance(dict[target], query);
        int bd = banded(dict[target], query, 3);
        if (osa < lev)
            osa_less++;
        if ((lev <= 3 && bd == lev) || (lev > 3 && bd == 4))
            band_ok++;
        hist[lev < 7 ? lev : 7]++;
        int d;
        int s = suggest(dict, NWORDS, query, &d);
        if (s == target || (s >= 0 && strcmp(dict[s], dict[target]) == 0))
            found++;
        Alignment al;
        weighted_align(dict[target], query, &al);
        for (const char *p = al.ops; *p; p++)
            h = h * 31u + (uint8_t)*p;
        h += (uint32_t)al.cost;
        if (q < 6)
            printf("%-12s -> %-12s lev=%d osa=%d w=%d.%d ops=%s suggest=%s(%d)\n", dict[target], query, lev, osa,
                   al.cost / 10, al.cost % 10, al.ops, s >= 0 ? dict[s] : "-", d);
    }
    printf("hist:");
    for (int i = 0; i < 8; i++)
        printf(" %d", hist[i]);
    printf("\nosa_less=%d band_ok=%d/%d found=%d/%d h=%08x\n", osa_less, band_ok, NQUERIES, found, NQUERIES,
           (unsigned)h);
    /* Triangle inequality spot check over dictionary triples. */
    int violations = 0;
    for (int i = 0; i + 2 < 150; i += 3)
        if (levenshtein(dict[i], dict[i + 2]) > levenshtein(dict[i], dict[i + 1]) + levenshtein(dict[i + 1], dict[i + 2]))
            violations++;
    printf("triangle violations=%d\n", violations);
    return 0;
}
