/* optgym-builtin: Polynomial arithmetic modulo the prime 998244353: schoolbook and Karatsuba multiplication, Horner evaluation, derivatives, division with remainder, GCD, Lagrange interpolation and multipoint checks. Style: numeric, recursive, loop-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MOD 998244353u
#define MAXDEG 1100

typedef struct {
    int deg; /* -1 for the zero polynomial */
    uint32_t c[MAXDEG + 1];
} Poly;

static uint32_t addm(uint32_t a, uint32_t b)
{
    uint32_t s = a + b;
    return s >= MOD ? s - MOD : s;
}

static uint32_t subm(uint32_t a, uint32_t b) { return a >= b ? a - b : a + MOD - b; }

static uint32_t mulm(uint32_t a, uint32_t b) { return (uint32_t)((uint64_t)a * b % MOD); }

static uint32_t powm(uint32_t b, uint64_t e)
{
    uint32_t r = 1;
    while (e) {
        if (e & 1)
            r = mulm(r, b);
        b = mulm(b, b);
        e >>= 1;
    }
    return r;
}

static uint32_t invm(uint32_t a) { return powm(a, MOD - 2); }

static void poly_trim(Poly *p)
{
    while (p->deg >= 0 && p->c[p->deg] == 0)
        p->deg--;
}

static uint32_t rs = 1u;
static uint32_t rnd(void)
{
    rs = rs * 1664525u + 1013904223u;
    return rs;
}

static void poly_random(Poly *p, int deg)
{
    memset(p, 0, sizeof *p);
    p->deg = deg;
    for (int i = 0; i <= deg; i++)
        p->c[i] = rnd() % MOD;
    if (p->c[deg] == 0)
        p->c[deg] = 1;
}

static uint32_t poly_eval(const Poly *p, uint32_t x)
{
    uint32_t r = 0;
    for (int i = p->deg; i >= 0; i--)
        r = addm(mulm(r, x), p->c[i]);
    return r;
}

static void poly_mul_naive(const Poly *a, const Poly *b, Poly *r)
{
    memset(r, 0, sizeof *r);
    if (a->deg < 0 || b->deg < 0) {
        r->deg = -1;
        return;
    }
    r->deg = a->deg + b->deg;
    for (int i = 0; i <= a->deg; i++) {
        if (!a->c[i])
            continue;
        for (int j = 0; j <= b->deg; j++)
            r->c[i + j] = addm(r->c[i + j], mulm(a->c[i], b->c[j]));
    }
    poly_trim(r);
}

/* Karatsuba on raw coefficient arrays of length n (a power of two); out has 2n entries. */
static void kara(const uint32_t *a, const uint32_t *b, int n, uint32_t *out)
{
    if (n <= 16) {
        memset(out, 0, sizeof(uint32_t) * (size_t)(2 * n));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                out[i + j] = addm(out[i + j], mulm(a[i], b[j]));
        return;
    }
    int h = n / 2;
    uint32_t *sa = malloc(sizeof(uint32_t) * (size_t)h);
    uint32_t *sb = malloc(sizeof(uint32_t) * (size_t)h);
    uint32_t *lo = malloc(sizeof(uint32_t) * (size_t)n);
    uint32_t *hi = malloc(sizeof(uint32_t) * (size_t)n);
    uint32_t *mid = malloc(sizeof(uint32_t) * (size_t)n);
    for (int i = 0; i < h; i++) {
        sa[i] = addm(a[i], a[i + h]);
        sb[i] = addm(b[i], b[i + h]);
    }
    kara(a, b, h, lo);
    kara(a + h, b + h, h, hi);
    kara(sa, sb, h, mid);
    for (int i = 0; i < n; i++)
        mid[i] = subm(subm(mid[i], lo[i]), hi[i]);
    memset(out, 0, sizeof(uint32_t) * (size_t)(2 * n));
    for (int i = 0; i < n; i++) {
        out[i] = addm(out[i], lo[i]);
        out[i + h] = addm(out[i + h], mid[i]);
        out[i + n] = addm(out[i + n], hi[i]);
    }
    free(sa);
    free(sb);
    free(lo);
    free(hi);
    free(mid);
}

static void poly_mul_kara(const Poly *a, const Poly *b, Poly *r)
{
    int n = 1;
    while (n <= a->deg || n <= b->deg)
        n <<= 1;
    uint32_t *x = calloc((size_t)n, sizeof(uint32_t));
    uint32_t *y = calloc((size_t)n, sizeof(uint32_t));
    uint32_t *z = calloc((size_t)(2 * n), sizeof(uint32_t));
    memcpy(x, a->c, sizeof(uint32_t) * (size_t)(a->deg + 1));
    memcpy(y, b->c, sizeof(uint32_t) * (size_t)(b->deg + 1));
    kara(x, y, n, z);
    memset(r, 0, sizeof *r);
    r->deg = a->deg + b->deg;
    memcpy(r->c, z, sizeof(uint32_t) * (size_t)(r->deg + 1));
    poly_trim(r);
    free(x);
    free(y);
    free(z);
}

static void poly_derivative(const Poly *p, Poly *d)
{
    memset(d, 0, sizeof *d);
    d->deg = p->deg - 1;
    for (int i = 1; i <= p->deg; i++)
        d->c[i - 1] = mulm(p->c[i], (uint32_t)i);
    poly_trim(d);
}

/* a = q*b + r with deg r < deg b. */
static void poly_divmod(const Poly *a, const Poly *b, Poly *q, Poly *r)
{
    *r = *a;
    memset(q, 0, sizeof *q);
    q->deg = a->deg - b->deg;
    if (q->deg < 0) {
        q->deg = -1;
        return;
    }
    uint32_t inv_lead = invm(b->c[b->deg]);
    for (int i = a->deg - b->deg; i >= 0; i--) {
        uint32_t f = mulm(r->c[i + b->deg], inv_lead);
        q->c[i] = f;
        if (!f)
            continue;
        for (int j = 0; j <= b->deg; j++)
            r->c[i + j] = subm(r->c[i + j], mulm(f, b->c[j]));
    }
    r->deg = b->deg - 1;
    poly_trim(r);
    poly_trim(q);
}

static void poly_gcd(const Poly *a, const Poly *b, Poly *g)
{
    Poly *x = malloc(sizeof *x), *y = malloc(sizeof *y), *q = malloc(sizeof *q), *r = malloc(sizeof *r);
    *x = *a;
    *y = *b;
    while (y->deg >= 0) {
        poly_divmod(x, y, q, r);
        *x = *y;
        *y = *r;
    }
    /* Make monic. */
    if (x->deg >= 0) {
        uint32_t inv = invm(x->c[x->deg]);
        for (int i = 0; i <= x->deg; i++)
            x->c[i] = mulm(x->c[i], inv);
    }
    *g = *x;
    free(x);
    free(y);
    free(q);
    free(r);
}

/* Lagrange interpolation at x = 0..n-1 evaluated at point t. */
static uint32_t lagrange_at(const uint32_t *ys, int n, uint32_t t)
{
    uint32_t result = 0;
    for (int i = 0; i < n; i++) {
        uint32_t num = 1, den = 1;
        for (int j = 0; j < n; j++) {
            if (j == i)
                continue;
            num = mulm(num, subm(t, (uint32_t)j));
            den = mulm(den, subm((uint32_t)i, (uint32_t)j));
        }
        result = addm(result, mulm(ys[i], mulm(num, invm(den))));
    }
    return result;
}

static uint32_t poly_hash(const Poly *p)
{
    uint32_t h = 2166136261u ^ (uint32_t)(p->deg + 1);
    for (int i = 0; i <= p->deg; i++)
        h = (h ^ p->c[i]) * 16777619u;
    return h;
}

int main(void)
{
    static Poly a, b, c1, c2, d, q, r, g, t;
    static const int degs[] = {10, 63, 200, 500};
    for (int k = 0; k < 4; k++) {
        poly_random(&a, degs[k]);
        poly_random(&b, degs[k] / 2 + 3);
        poly_mul_naive(&a, &b, &c1);
        poly_mul_kara(&a, &b, &c2);
        int same = c1.deg == c2.deg && memcmp(c1.c, c2.c, sizeof(uint32_t) * (size_t)(c1.deg + 1)) == 0;
        int evals_ok = 1;
        for (uint32_t x = 1; x < 40; x += 3)
            if (poly_eval(&c1, x) != mulm(poly_eval(&a, x), poly_eval(&b, x)))
                evals_ok = 0;
        poly_divmod(&c1, &b, &q, &r);
        int div_ok = q.deg == a.deg && r.deg < 0 && memcmp(q.c, a.c, sizeof(uint32_t) * (size_t)(a.deg + 1)) == 0;
        /* Product rule: (ab)' = a'b + ab'. */
        Poly *da = &d, *lhs = &t;
        poly_derivative(&c1, lhs);
        poly_derivative(&a, da);
        Poly *p1 = malloc(sizeof *p1), *p2 = malloc(sizeof *p2), *db = malloc(sizeof *db);
        poly_mul_naive(da, &b, p1);
        poly_derivative(&b, db);
        poly_mul_naive(&a, db, p2);
        int deriv_ok = 1;
        for (uint32_t x = 2; x < 30; x += 5)
            if (poly_eval(lhs, x) != addm(poly_eval(p1, x), poly_eval(p2, x)))
                deriv_ok = 0;
        free(p1);
        free(p2);
        free(db);
        printf("deg %3d x %3d: product deg=%d kara_same=%d evals=%d div=%d deriv=%d hash=%08x p(12345)=%u\n", a.deg,
               b.deg, c1.deg, same, evals_ok, div_ok, deriv_ok, (unsigned)poly_hash(&c1),
               (unsigned)poly_eval(&c1, 12345u));
    }

    /* gcd(a*g0, b*g0) should be the monic g0. */
    Poly g0;
    poly_random(&g0, 7);
    poly_random(&a, 30);
    poly_random(&b, 25);
    poly_mul_naive(&a, &g0, &c1);
    poly_mul_naive(&b, &g0, &c2);
    poly_gcd(&c1, &c2, &g);
    uint32_t inv = invm(g0.c[g0.deg]);
    int gcd_ok = g.deg == g0.deg;
    for (int i = 0; i <= g0.deg && gcd_ok; i++)
        gcd_ok = g.c[i] == mulm(g0.c[i], inv);
    printf("gcd deg=%d matches=%d hash=%08x\n", g.deg, gcd_ok, (unsigned)poly_hash(&g));

    /* Interpolate a degree-19 polynomial from 20 samples and predict more points. */
    poly_random(&a, 19);
    uint32_t ys[20];
    for (int i = 0; i < 20; i++)
        ys[i] = poly_eval(&a, (uint32_t)i);
    int interp_ok = 1;
    uint32_t ih = 0;
    for (uint32_t x = 20; x < 60; x++) {
        uint32_t v = lagrange_at(ys, 20, x);
        if (v != poly_eval(&a, x))
            interp_ok = 0;
        ih = ih * 31u + v;
    }
    printf("interpolation ok=%d hash=%08x inv(2)=%u 3^(p-1)=%u\n", interp_ok, (unsigned)ih, (unsigned)invm(2),
           (unsigned)powm(3, MOD - 1));
    return 0;
}
