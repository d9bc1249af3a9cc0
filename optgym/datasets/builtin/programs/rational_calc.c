/* optgym-builtin: Exact rational arithmetic with gcd normalisation and overflow detection: harmonic and Bernoulli numbers, continued fractions, Egyptian fractions and Gaussian elimination over the rationals. Style: numeric, many-small-functions, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t num;
    int64_t den; /* always > 0 */
} Rat;

static int overflowed;

static int64_t gcd64(int64_t a, int64_t b)
{
    if (a < 0)
        a = -a;
    if (b < 0)
        b = -b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int64_t checked_mul(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) {
        overflowed = 1;
        return 0;
    }
    return r;
}

static int64_t checked_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) {
        overflowed = 1;
        return 0;
    }
    return r;
}

static Rat rat_make(int64_t n, int64_t d)
{
    Rat r;
    if (d < 0) {
        n = -n;
        d = -d;
    }
    int64_t g = gcd64(n, d);
    if (g == 0)
        g = 1;
    r.num = n / g;
    r.den = d / g;
    return r;
}

static Rat rat_int(int64_t n) { return rat_make(n, 1); }

static Rat rat_add(Rat a, Rat b)
{
    int64_t g = gcd64(a.den, b.den);
    int64_t da = a.den / g, db = b.den / g;
    int64_t n = checked_add(checked_mul(a.num, db), checked_mul(b.num, da));
    return rat_make(n, checked_mul(a.den, db));
}

static Rat rat_neg(Rat a)
{
    a.num = -a.num;
    return a;
}

static Rat rat_sub(Rat a, Rat b) { return rat_add(a, rat_neg(b)); }

static Rat rat_mul(Rat a, Rat b)
{
    int64_t g1 = gcd64(a.num, b.den), g2 = gcd64(b.num, a.den);
    if (g1 == 0)
        g1 = 1;
    if (g2 == 0)
        g2 = 1;
    return rat_make(checked_mul(a.num / g1, b.num / g2), checked_mul(a.den / g2, b.den / g1));
}

static Rat rat_div(Rat a, Rat b)
{
    Rat inv = b.num < 0 ? rat_make(-b.den, -b.num) : rat_make(b.den, b.num);
    return rat_mul(a, inv);
}

static int rat_cmp(Rat a, Rat b)
{
    Rat d = rat_sub(a, b);
    return (d.num > 0) - (d.num < 0);
}

static int rat_is_zero(Rat a) { return a.num == 0; }

static void rat_print(const char *label, Rat a)
{
    printf("%s = %lld/%lld\n", label, (long long)a.num, (long long)a.den);
}

static Rat harmonic(int n)
{
    Rat h = rat_int(0);
    for (int k = 1; k <= n; k++)
        h = rat_add(h, rat_make(1, k));
    return h;
}

static int64_t binom(int n, int k)
{
    int64_t r = 1;
    for (int i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return r;
}

/* Bernoulli numbers by the recurrence sum_{k=0}^{m} C(m+1,k) B_k = 0. */
static void bernoulli(Rat *b, int n)
{
    b[0] = rat_int(1);
    for (int m = 1; m <= n; m++) {
        Rat s = rat_int(0);
        for (int k = 0; k < m; k++)
            s = rat_add(s, rat_mul(rat_int(binom(m + 1, k)), b[k]));
        b[m] = rat_div(rat_neg(s), rat_int(m + 1));
    }
}

static int continued_fraction(Rat a, int64_t *terms, int max)
{
    int n = 0;
    while (n < max) {
        int64_t q = a.num / a.den;
        if (a.num < 0 && a.num % a.den)
            q--;
        terms[n++] = q;
        Rat frac = rat_sub(a, rat_int(q));
        if (rat_is_zero(frac))
            break;
        a = rat_div(rat_int(1), frac);
    }
    return n;
}

static Rat from_continued(const int64_t *t, int n)
{
    Rat r = rat_int(t[n - 1]);
    for (int i = n - 2; i >= 0; i--)
        r = rat_add(rat_int(t[i]), rat_div(rat_int(1), r));
    return r;
}

/* Greedy Egyptian fraction expansion of 0 < a < 1. */
static int egyptian(Rat a, int64_t *dens, int max)
{
    int n = 0;
    while (!rat_is_zero(a) && n < max && !overflowed) {
        int64_t d = (a.den + a.num - 1) / a.num;
        dens[n++] = d;
        a = rat_sub(a, rat_make(1, d));
    }
    return n;
}

#define MS 4

/* Solve A x = b exactly; returns 0 if singular. */
static int gauss_solve(Rat A[MS][MS + 1], Rat *x)
{
    for (int col = 0; col < MS; col++) {
        int piv = -1;
        for (int r = col; r < MS; r++)
            if (!rat_is_zero(A[r][col])) {
                piv = r;
                break;
            }
        if (piv < 0)
            return 0;
        if (piv != col)
            for (int c = 0; c <= MS; c++) {
                Rat t = A[col][c];
                A[col][c] = A[piv][c];
                A[piv][c] = t;
            }
        for (int r = 0; r < MS; r++) {
            if (r == col || rat_is_zero(A[r][col]))
                continue;
            Rat f = rat_div(A[r][col], A[col][col]);
            for (int c = col; c <= MS; c++)
                A[r][c] = rat_sub(A[r][c], rat_mul(f, A[col][c]));
        }
    }
    for (int i = 0; i < MS; i++)
        x[i] = rat_div(A[i][MS], A[i][i]);
    return 1;
}

int main(void)
{
    char label[32];
    for (int n = 5; n <= 40; n += 5) {
        snprintf(label, sizeof label, "H(%d)", n);
        rat_print(label, harmonic(n));
    }
    Rat b[21];
    bernoulli(b, 20);
    for (int i = 0; i <= 20; i += 2) {
        snprintf(label, sizeof label, "B(%d)", i);
        rat_print(label, b[i]);
    }
    rat_print("B(1)", b[1]);

    int64_t terms[40];
    Rat approx[] = {rat_make(355, 113), rat_make(103993, 33102), rat_make(-271828, 100000), rat_make(1393, 985)};
    for (size_t i = 0; i < sizeof approx / sizeof approx[0]; i++) {
        int n = continued_fraction(approx[i], terms, 40);
        Rat back = from_continued(terms, n);
        printf("cf(%lld/%lld) = [", (long long)approx[i].num, (long long)approx[i].den);
        for (int k = 0; k < n; k++)
            printf("%s%lld", k ? "," : "", (long long)terms[k]);
        printf("] roundtrip=%d\n", rat_cmp(back, approx[i]) == 0);
    }

    int64_t dens[16];
    Rat eg[] = {rat_make(4, 13), rat_make(5, 121), rat_make(7, 15), rat_make(3, 7)};
    for (size_t i = 0; i < sizeof eg / sizeof eg[0]; i++) {
        overflowed = 0;
        int n = egyptian(eg[i], dens, 16);
        printf("egypt(%lld/%lld) =", (long long)eg[i].num, (long long)eg[i].den);
        for (int k = 0; k < n; k++)
            printf(" 1/%lld", (long long)dens[k]);
        printf("%s\n", overflowed ? " (overflow)" : "");
    }

    /* Hilbert-like system with a known solution x = (1, -2, 3, -4). */
    Rat A[MS][MS + 1], x[MS];
    int64_t sol[MS] = {1, -2, 3, -4};
    for (int i = 0; i < MS; i++) {
        Rat rhs = rat_int(0);
        for (int j = 0; j < MS; j++) {
            A[i][j] = rat_make(1, i + j + 1);
            rhs = rat_add(rhs, rat_mul(A[i][j], rat_int(sol[j])));
        }
        A[i][MS] = rhs;
    }
    overflowed = 0;
    int ok = gauss_solve(A, x);
    printf("gauss ok=%d overflow=%d x =", ok, overflowed);
    for (int i = 0; i < MS; i++)
        printf(" %lld/%lld", (long long)x[i].num, (long long)x[i].den);
    printf("\n");

    overflowed = 0;
    Rat big = harmonic(60);
    printf("H(60) overflow detected=%d\n", overflowed);
    (void)big;
    return 0;
}
