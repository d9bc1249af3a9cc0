/* optgym-builtin: Integer matrix multiplication with naive ijk, loop-interchanged ikj, cache-blocked and transposed-dot-product variants, cross-verified against each other and by a Freivalds-style vector check. Style: loop-heavy, numeric, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N 72
#define BS 16

typedef int32_t Mat[N][N];

static uint32_t seed = 8675309u;
static int32_t small_rand(void)
{
    seed = seed * 1103515245u + 12345u;
    return (int32_t)((seed >> 16) % 201u) - 100;
}

static void fill(Mat m)
{
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) m[i][j] = small_rand();
}

static void mul_naive(Mat a, Mat b, Mat c)
{
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) {
            int32_t s = 0;
            for (int k = 0; k < N; ++k) s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
}

static void mul_ikj(Mat a, Mat b, Mat c)
{
    memset(c, 0, sizeof(Mat));
    for (int i = 0; i < N; ++i)
        for (int k = 0; k < N; ++k) {
            int32_t aik = a[i][k];
            for (int j = 0; j < N; ++j) c[i][j] += aik * b[k][j];
        }
}

static void mul_blocked(Mat a, Mat b, Mat c)
{
    memset(c, 0, sizeof(Mat));
    for (int ii = 0; ii < N; ii += BS)
        for (int kk = 0; kk < N; kk += BS)
            for (int jj = 0; jj < N; jj += BS)
                for (int i = ii; i < ii + BS && i < N; ++i)
                    for (int k = kk; k < kk + BS && k < N; ++k) {
                        int32_t aik = a[i][k];
                        int32_t *crow = c[i];
                        const int32_t *brow = b[k];
                        for (int j = jj; j < jj + BS && j < N; ++j) crow[j] += aik * brow[j];
                    }
}

static void transpose(Mat src, Mat dst)
{
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) dst[j][i] = src[i][j];
}

static int32_t dot(const int32_t *x, const int32_t *y, int n)
{
    int32_t s0 = 0, s1 = 0;
    int k = 0;
    for (; k + 1 < n; k += 2) {
        s0 += x[k] * y[k];
        s1 += x[k + 1] * y[k + 1];
    }
    if (k < n) s0 += x[k] * y[k];
    return s0 + s1;
}

static void mul_transposed(Mat a, Mat b, Mat c, Mat bt)
{
    transpose(b, bt);
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) c[i][j] = dot(a[i], bt[j], N);
}

static int equal(Mat x, Mat y) { return memcmp(x, y, sizeof(Mat)) == 0; }

static int64_t trace(Mat m)
{
    int64_t t = 0;
    for (int i = 0; i < N; ++i) t += m[i][i];
    return t;
}

static uint32_t digest(Mat m)
{
    uint32_t h = 0;
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) h = h * 1000003u ^ (uint32_t)m[i][j];
    return h;
}

/* Freivalds-style check with a fixed vector: A(Bx) must equal Cx */
static int freivalds(Mat a, Mat b, Mat c)
{
    int64_t x[N], bx[N], abx[N], cx[N];
    for (int i = 0; i < N; ++i) x[i] = (i * 7) % 5 - 2;
    for (int i = 0; i < N; ++i) {
        bx[i] = 0;
        cx[i] = 0;
        for (int j = 0; j < N; ++j) {
            bx[i] += (int64_t)b[i][j] * x[j];
            cx[i] += (int64_t)c[i][j] * x[j];
        }
    }
    for (int i = 0; i < N; ++i) {
        abx[i] = 0;
        for (int j = 0; j < N; ++j) abx[i] += (int64_t)a[i][j] * bx[j];
        if (abx[i] != cx[i]) return 0;
    }
    return 1;
}

int main(void)
{
    Mat *m = malloc(sizeof(Mat) * 7);
    if (!m) return 1;
    Mat *a = &m[0], *b = &m[1], *c1 = &m[2], *c2 = &m[3], *c3 = &m[4], *c4 = &m[5], *tmp = &m[6];
    fill(*a);
    fill(*b);
    mul_naive(*a, *b, *c1);
    mul_ikj(*a, *b, *c2);
    mul_blocked(*a, *b, *c3);
    mul_transposed(*a, *b, *c4, *tmp);
    printf("agree: ikj=%d blocked=%d transposed=%d freivalds=%d\n", equal(*c1, *c2), equal(*c1, *c3),
           equal(*c1, *c4), freivalds(*a, *b, *c1));
    printf("trace=%lld digest=%08x corner=%d,%d\n", (long long)trace(*c1), (unsigned)digest(*c1), (*c1)[0][0],
           (*c1)[N - 1][N - 1]);
    /* square the product (values stay in range because entries are bounded) */
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) (*a)[i][j] = (*c1)[i][j] % 97;
    mul_blocked(*a, *a, *c2);
    mul_naive(*a, *a, *c3);
    printf("square: agree=%d trace=%lld digest=%08x\n", equal(*c2, *c3), (long long)trace(*c2),
           (unsigned)digest(*c2));
    free(m);
    return 0;
}
