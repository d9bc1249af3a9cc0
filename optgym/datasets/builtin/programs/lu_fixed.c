/* optgym-builtin: LU decomposition with partial pivoting over exact rationals (64-bit numerator/denominator with gcd reduction) to solve generated integer systems, compute determinants and verify A*x = b exactly. Style: numeric, struct-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#define N 7

typedef struct {
    int64_t num, den; /* den > 0, gcd(num, den) == 1 */
} Rat;

static int64_t gcd64(int64_t a, int64_t b)
{
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static Rat rat(int64_t n, int64_t d)
{
    if (d < 0) {
        n = -n;
        d = -d;
    }
    int64_t g = gcd64(n, d);
    if (g > 1) {
        n /= g;
        d /= g;
    }
    Rat r = {n, d ? d : 1};
    return r;
}

static Rat rat_int(int64_t n) { return rat(n, 1); }
static int rat_is_zero(Rat a) { return a.num == 0; }
static int rat_eq(Rat a, Rat b) { return a.num == b.num && a.den == b.den; }

static Rat rat_mul(Rat a, Rat b)
{
    /* cross-reduce first to keep intermediates small */
    int64_t g1 = gcd64(a.num, b.den), g2 = gcd64(b.num, a.den);
    if (g1 == 0) g1 = 1;
    if (g2 == 0) g2 = 1;
    return rat((a.num / g1) * (b.num / g2), (a.den / g2) * (b.den / g1));
}

static Rat rat_div(Rat a, Rat b) { return rat_mul(a, rat(b.den, b.num)); }

static Rat rat_add(Rat a, Rat b)
{
    int64_t g = gcd64(a.den, b.den);
    int64_t l = a.den / g;
    return rat(a.num * (b.den / g) + b.num * l, l * b.den);
}

static Rat rat_neg(Rat a) { return (Rat){-a.num, a.den}; }
static Rat rat_sub(Rat a, Rat b) { return rat_add(a, rat_neg(b)); }

static int rat_abs_greater(Rat a, Rat b)
{
    /* cross multiplication; the generated systems keep numerators and denominators
       far below 2^31, so the products fit in int64 */
    int64_t an = a.num < 0 ? -a.num : a.num, bn = b.num < 0 ? -b.num : b.num;
    return an * b.den > bn * a.den;
}

typedef struct {
    Rat lu[N][N];
    int perm[N];
    int sign;
    int singular;
} LU;

static void decompose(const int64_t a[N][N], LU *f)
{
    for (int i = 0; i < N; ++i) {
        f->perm[i] = i;
        for (int j = 0; j < N; ++j) f->lu[i][j] = rat_int(a[i][j]);
    }
    f->sign = 1;
    f->singular = 0;
    for (int k = 0; k < N; ++k) {
        int p = k;
        for (int i = k + 1; i < N; ++i)
            if (rat_abs_greater(f->lu[i][k], f->lu[p][k])) p = i;
        if (rat_is_zero(f->lu[p][k])) {
            f->singular = 1;
            return;
        }
        if (p != k) {
            for (int j = 0; j < N; ++j) {
                Rat t = f->lu[k][j];
                f->lu[k][j] = f->lu[p][j];
                f->lu[p][j] = t;
            }
            int t = f->perm[k];
            f->perm[k] = f->perm[p];
            f->perm[p] = t;
            f->sign = -f->sign;
        }
        for (int i = k + 1; i < N; ++i) {
            Rat m = rat_div(f->lu[i][k], f->lu[k][k]);
            f->lu[i][k] = m;
            for (int j = k + 1; j < N; ++j) f->lu[i][j] = rat_sub(f->lu[i][j], rat_mul(m, f->lu[k][j]));
        }
    }
}

static void solve(const LU *f, const int64_t b[N], Rat x[N])
{
    Rat y[N];
    for (int i = 0; i < N; ++i) {
        Rat s = rat_int(b[f->perm[i]]);
        for (int j = 0; j < i; ++j) s = rat_sub(s, rat_mul(f->lu[i][j], y[j]));
        y[i] = s;
    }
    for (int i = N - 1; i >= 0; --i) {
        Rat s = y[i];
        for (int j = i + 1; j < N; ++j) s = rat_sub(s, rat_mul(f->lu[i][j], x[j]));
        x[i] = rat_div(s, f->lu[i][i]);
    }
}

static Rat determinant(const LU *f)
{
    Rat d = rat_int(f->sign);
    for (int i = 0; i < N; ++i) d = rat_mul(d, f->lu[i][i]);
    return d;
}

static int verify(const int64_t a[N][N], const int64_t b[N], const Rat x[N])
{
    for (int i = 0; i < N; ++i) {
        Rat s = rat_int(0);
        for (int j = 0; j < N; ++j) s = rat_add(s, rat_mul(rat_int(a[i][j]), x[j]));
        if (!rat_eq(s, rat_int(b[i]))) return 0;
    }
    return 1;
}

static uint32_t st = 31u;
static int64_t small(void)
{
    st = st * 1103515245u + 12345u;
    return (int64_t)((st >> 16) % 11u) - 5;
}

int main(void)
{
    int64_t a[N][N], b[N];
    LU f;
    uint32_t acc = 0;
    for (int t = 0; t < 6; ++t) {
        for (int i = 0; i < N; ++i) {
            for (int j = 0; j < N; ++j) a[i][j] = small();
            a[i][i] += (t % 3 == 0) ? 0 : 6; /* some systems diagonally dominant */
            b[i] = small() * 3;
        }
        if (t == 4)
            for (int j = 0; j < N; ++j) a[N - 1][j] = a[0][j] * 2 - a[1][j]; /* force singular */
        decompose(a, &f);
        if (f.singular) {
            printf("system %d: singular\n", t);
            continue;
        }
        Rat x[N];
        solve(&f, b, x);
        Rat d = determinant(&f);
        printf("system %d: det=%lld/%lld ok=%d x0=%lld/%lld x%d=%lld/%lld\n", t, (long long)d.num, (long long)d.den,
               verify(a, b, x), (long long)x[0].num, (long long)x[0].den, N - 1, (long long)x[N - 1].num,
               (long long)x[N - 1].den);
        for (int i = 0; i < N; ++i) acc = (acc * 31u + (uint32_t)x[i].num) ^ (uint32_t)x[i].den;
    }
    printf("acc=%08x\n", (unsigned)acc);
    return 0;
}
