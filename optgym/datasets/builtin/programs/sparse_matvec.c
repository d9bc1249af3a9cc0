/* optgym-builtin: Sparse matrices in compressed sparse row form: COO-to-CSR conversion with duplicate merging, matrix-vector products checked against a dense reference, transposition, sparse matrix product and fixed-point Jacobi iteration on a diagonally dominant system. Style: loop-heavy, pointer-heavy, numeric */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N 400
#define FP 16 /* fixed-point fraction bits for the Jacobi solver */

typedef struct {
    int rows, cols, nnz;
    int *rowptr;
    int *colidx;
    int32_t *val;
} Csr;

typedef struct {
    int r, c;
    int32_t v;
} Triplet;

static uint32_t seed = 20240601u;
static uint32_t rnd(uint32_t n)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 10) % n;
}

static void csr_free(Csr *m)
{
    free(m->rowptr);
    free(m->colidx);
    free(m->val);
}

static int cmp_col(const void *a, const void *b)
{
    const Triplet *x = a, *y = b;
    return (x->c > y->c) - (x->c < y->c);
}

/* Counting sort by row, then sort each row by column and merge duplicates by summing. */
static void coo_to_csr(Triplet *t, int n, int rows, int cols, Csr *m)
{
    Triplet *sorted = malloc(sizeof(Triplet) * (size_t)n);
    int *count = calloc((size_t)rows + 1, sizeof(int));
    for (int i = 0; i < n; i++)
        count[t[i].r + 1]++;
    for (int r = 0; r < rows; r++)
        count[r + 1] += count[r];
    int *pos = malloc(sizeof(int) * (size_t)rows);
    memcpy(pos, count, sizeof(int) * (size_t)rows);
    for (int i = 0; i < n; i++)
        sorted[pos[t[i].r]++] = t[i];
    m->rows = rows;
    m->cols = cols;
    m->rowptr = calloc((size_t)rows + 1, sizeof(int));
    m->colidx = malloc(sizeof(int) * (size_t)(n ? n : 1));
    m->val = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    int k = 0;
    for (int r = 0; r < rows; r++) {
        Triplet *row = sorted + count[r];
        int len = count[r + 1] - count[r];
        qsort(row, (size_t)len, sizeof(Triplet), cmp_col);
        for (int i = 0; i < len; i++) {
            if (k > m->rowptr[r] && m->colidx[k - 1] == row[i].c) {
                m->val[k - 1] += row[i].v;
                continue;
            }
            m->colidx[k] = row[i].c;
            m->val[k] = row[i].v;
            k++;
        }
        m->rowptr[r + 1] = k;
    }
    m->nnz = k;
    free(sorted);
    free(count);
    free(pos);
}

static void spmv(const Csr *m, const int64_t *x, int64_t *y)
{
    for (int r = 0; r < m->rows; r++) {
        int64_t s = 0;
        const int *ci = m->colidx + m->rowptr[r];
        const int32_t *v = m->val + m->rowptr[r];
        for (int k = m->rowptr[r]; k < m->rowptr[r + 1]; k++, ci++, v++)
            s += (int64_t)*v * x[*ci];
        y[r] = s;
    }
}

static void transpose(const Csr *a, Csr *t)
{
    t->rows = a->cols;
    t->cols = a->rows;
    t->nnz = a->nnz;
    t->rowptr = calloc((size_t)t->rows + 1, sizeof(int));
    t->colidx = malloc(sizeof(int) * (size_t)(a->nnz ? a->nnz : 1));
    t->val = malloc(sizeof(int32_t) * (size_t)(a->nnz ? a->nnz : 1));
    for (int k = 0; k < a->nnz; k++)
        t->rowptr[a->colidx[k] + 1]++;
    for (int r = 0; r < t->rows; r++)
        t->rowptr[r + 1] += t->rowptr[r];
    int *next = malloc(sizeof(int) * (size_t)t->rows);
    memcpy(next, t->rowptr, sizeof(int) * (size_t)t->rows);
    for (int r = 0; r < a->rows; r++)
        for (int k = a->rowptr[r]; k < a->rowptr[r + 1]; k++) {
            int dst = next[a->colidx[k]]++;
            t->colidx[dst] = r;
            t->val[dst] = a->val[k];
        }
    free(next);
}

/* C = A * B with a dense accumulator row (Gustavson's algorithm), returning nnz and a value checksum. */
static int spgemm_stats(const Csr *a, const Csr *b, int64_t *checksum)
{
    int64_t *acc = calloc((size_t)b->cols, sizeof(int64_t));
    int *mark = malloc(sizeof(int) * (size_t)b->cols);
    int *list = malloc(sizeof(int) * (size_t)b->cols);
    for (int i = 0; i < b->cols; i++)
        mark[i] = -1;
    int nnz = 0;
    int64_t cs = 0;
    for (int r = 0; r < a->rows; r++) {
        int n = 0;
        for (int k = a->rowptr[r]; k < a->rowptr[r + 1]; k++) {
            int j = a->colidx[k];
            for (int l = b->rowptr[j]; l < b->rowptr[j + 1]; l++) {
                int c = b->colidx[l];
                if (mark[c] != r) {
                    mark[c] = r;
                    acc[c] = 0;
                    list[n++] = c;
                }
                acc[c] += (int64_t)a->val[k] * b->val[l];
            }
        }
        nnz += n;
        for (int i = 0; i < n; i++)
            cs += acc[list[i]] * (int64_t)(list[i] + 1) * (r % 7 + 1);
    }
    free(acc);
    free(mark);
    free(list);
    *checksum = cs;
    return nnz;
}

/* Jacobi iteration for A x = b in Q16; A is strictly diagonally dominant. */
static int jacobi(const Csr *a, const int64_t *b, int64_t *x, int iters, int64_t *resid)
{
    int64_t *nx = malloc(sizeof(int64_t) * (size_t)a->rows);
    int64_t *ax = malloc(sizeof(int64_t) * (size_t)a->rows);
    int it;
    for (it = 0; it < iters; it++) {
        int64_t change = 0;
        for (int r = 0; r < a->rows; r++) {
            int64_t s = b[r] * ((int64_t)1 << FP);
            int64_t diag = 1;
            for (int k = a->rowptr[r]; k < a->rowptr[r + 1]; k++) {
                if (a->colidx[k] == r)
                    diag = a->val[k];
                else
                    s -= (int64_t)a->val[k] * x[a->colidx[k]];
            }
            nx[r] = s / diag;
            int64_t d = nx[r] - x[r];
            change += d < 0 ? -d : d;
        }
        memcpy(x, nx, sizeof(int64_t) * (size_t)a->rows);
        if (change == 0)
            break;
    }
    spmv(a, x, ax);
    int64_t res = 0;
    for (int r = 0; r < a->rows; r++) {
        int64_t d = ax[r] - b[r] * ((int64_t)1 << FP);
        res += d < 0 ? -d : d;
    }
    *resid = res;
    free(nx);
    free(ax);
    return it;
}

int main(void)
{
    int cap = N * 12;
    Triplet *t = malloc(sizeof(Triplet) * (size_t)cap);
    int n = 0;
    for (int r = 0; r < N; r++) {
        int64_t offsum = 0;
        int start = n;
        for (int k = 0; k < 8; k++) {
            int c = k < 2 ? (r + (k ? 1 : N - 1)) % N : (int)rnd(N);
            if (c == r)
                continue;
            int32_t v = (int32_t)rnd(19) - 9;
            t[n++] = (Triplet){r, c, v};
            if (rnd(5) == 0) /* duplicates exercise the merge */
                t[n++] = (Triplet){r, c, 1};
        }
        for (int i = start; i < n; i++)
            offsum += t[i].v < 0 ? -t[i].v : t[i].v;
        t[n++] = (Triplet){r, r, (int32_t)(offsum + 1 + rnd(10))};
    }
    Csr a, at;
    coo_to_csr(t, n, N, N, &a);
    transpose(&a, &at);

    /* Dense reference for the product. */
    int64_t *dense = calloc((size_t)N * N, sizeof(int64_t));
    for (int i = 0; i < n; i++)
        dense[(size_t)t[i].r * N + (size_t)t[i].c] += t[i].v;
    int64_t x[N], y[N], yt[N], yd[N];
    for (int i = 0; i < N; i++)
        x[i] = (int64_t)rnd(2001) - 1000;
    spmv(&a, x, y);
    int dense_bad = 0;
    for (int r = 0; r < N; r++) {
        int64_t s = 0;
        for (int c = 0; c < N; c++)
            s += dense[(size_t)r * N + (size_t)c] * x[c];
        yd[r] = s;
        dense_bad += yd[r] != y[r];
    }
    /* <y, A x> must equal <A^T y, x>. */
    spmv(&at, y, yt);
    int64_t lhs = 0, rhs = 0, ysum = 0;
    for (int i = 0; i < N; i++) {
        lhs += y[i] * y[i];
        rhs += yt[i] * x[i];
        ysum += y[i];
    }
    int64_t cs;
    int cnnz = spgemm_stats(&a, &at, &cs);
    printf("triplets=%d nnz=%d dense_bad=%d ysum=%lld adjoint=%d\n", n, a.nnz, dense_bad, (long long)ysum, lhs == rhs);
    printf("A*At nnz=%d checksum=%lld\n", cnnz, (long long)cs);

    int64_t b[N], sol[N];
    for (int i = 0; i < N; i++) {
        b[i] = (int64_t)(i % 17) - 8;
        sol[i] = 0;
    }
    int64_t resid;
    int iters = jacobi(&a, b, sol, 200, &resid);
    int64_t xs = 0;
    for (int i = 0; i < N; i++)
        xs += sol[i] * (i + 1);
    printf("jacobi iters=%d residual=%lld weighted_x=%lld x0=%lld\n", iters, (long long)resid, (long long)xs,
           (long long)sol[0]);
    free(dense);
    free(t);
    csr_free(&a);
    csr_free(&at);
    return 0;
}
