/* optgym-builtin: Integer k-means clustering of generated 3-D point clouds with k-means++ style seeding from a deterministic generator, Lloyd iterations, empty-cluster repair, inertia tracking and a silhouette-like separation score. Style: numeric, loop-heavy, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DIM 3
#define NPOINTS 1500
#define MAXK 8

typedef struct {
    int32_t x[DIM];
    int label;  /* ground-truth blob */
    int assign; /* current cluster */
} Point;

typedef struct {
    int64_t c[DIM];
    int count;
} Centroid;

static uint64_t s = 88172645463325252ull;

static uint32_t rnd32(void)
{
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (uint32_t)(s >> 32);
}

/* Approximately normal integers via the sum of four uniforms. */
static int32_t gauss_like(int32_t spread)
{
    int32_t sum = 0;
    for (int i = 0; i < 4; i++)
        sum += (int32_t)(rnd32() % 2001u) - 1000;
    return (int32_t)((int64_t)sum * spread / 2000);
}

static int64_t dist2(const int32_t *a, const int64_t *c)
{
    int64_t d = 0;
    for (int k = 0; k < DIM; k++) {
        int64_t t = a[k] - c[k];
        d += t * t;
    }
    return d;
}

static void generate(Point *pts, int n, int blobs)
{
    int32_t centers[MAXK][DIM];
    for (int b = 0; b < blobs; b++)
        for (int k = 0; k < DIM; k++)
            centers[b][k] = (int32_t)(rnd32() % 20001u) - 10000;
    for (int i = 0; i < n; i++) {
        int b = (int)(rnd32() % (uint32_t)blobs);
        pts[i].label = b;
        pts[i].assign = -1;
        int32_t spread = 600 + 300 * b;
        for (int k = 0; k < DIM; k++)
            pts[i].x[k] = centers[b][k] + gauss_like(spread);
    }
}

static void seed_plus_plus(const Point *pts, int n, Centroid *cent, int k)
{
    int64_t *best = malloc(sizeof(int64_t) * (size_t)n);
    int first = (int)(rnd32() % (uint32_t)n);
    for (int d = 0; d < DIM; d++)
        cent[0].c[d] = pts[first].x[d];
    for (int i = 0; i < n; i++)
        best[i] = dist2(pts[i].x, cent[0].c);
    for (int j = 1; j < k; j++) {
        uint64_t total = 0;
        for (int i = 0; i < n; i++)
            total += (uint64_t)best[i];
        /* Sample proportionally to squared distance using a 64-bit draw. */
        uint64_t hi = rnd32(); /* two statements: the order of calls within one expression is unspecified */
        uint64_t r = ((hi << 32) | rnd32()) % (total ? total : 1);
        int pick = n - 1;
        for (int i = 0; i < n; i++) {
            if (r < (uint64_t)best[i]) {
                pick = i;
                break;
            }
            r -= (uint64_t)best[i];
        }
        for (int d = 0; d < DIM; d++)
            cent[j].c[d] = pts[pick].x[d];
        for (int i = 0; i < n; i++) {
            int64_t dd = dist2(pts[i].x, cent[j].c);
            if (dd < best[i])
                best[i] = dd;
        }
    }
    free(best);
}

static int assign_points(Point *pts, int n, const Centroid *cent, int k)
{
    int changed = 0;
    for (int i = 0; i < n; i++) {
        int bi = 0;
        int64_t bd = dist2(pts[i].x, cent[0].c);
        for (int j = 1; j < k; j++) {
            int64_t d = dist2(pts[i].x, cent[j].c);
            if (d < bd) {
                bd = d;
                bi = j;
            }
        }
        if (pts[i].assign != bi) {
            pts[i].assign = bi;
            changed++;
        }
    }
    return changed;
}

static int update_centroids(Point *pts, int n, Centroid *cent, int k)
{
    int64_t sum[MAXK][DIM];
    memset(sum, 0, sizeof sum);
    for (int j = 0; j < k; j++)
        cent[j].count = 0;
    for (int i = 0; i < n; i++) {
        Centroid *c = &cent[pts[i].assign];
        c->count++;
        for (int d = 0; d < DIM; d++)
            sum[pts[i].assign][d] += pts[i].x[d];
    }
    int repaired = 0;
    for (int j = 0; j < k; j++) {
        if (cent[j].count == 0) {
            /* Move an empty centroid onto the point farthest from its own centroid. */
            int far = 0;
            int64_t fd = -1;
            for (int i = 0; i < n; i++) {
                int64_t d = dist2(pts[i].x, cent[pts[i].assign].c);
                if (d > fd) {
                    fd = d;
                    far = i;
                }
            }
            for (int d = 0; d < DIM; d++)
                cent[j].c[d] = pts[far].x[d];
            repaired++;
            continue;
        }
        for (int d = 0; d < DIM; d++) {
            /* Round to nearest, symmetric for negatives. */
            int64_t v = sum[j][d], cnt = cent[j].count;
            cent[j].c[d] = v >= 0 ? (v + cnt / 2) / cnt : -((-v + cnt / 2) / cnt);
        }
    }
    return repaired;
}

static int64_t inertia(const Point *pts, int n, const Centroid *cent)
{
    int64_t tot = 0;
    for (int i = 0; i < n; i++)
        tot += dist2(pts[i].x, cent[pts[i].assign].c);
    return tot;
}

/* Purity: fraction of points whose cluster's majority label matches their own, in per mille. */
static int purity(const Point *pts, int n, int k, int blobs)
{
    int table[MAXK][MAXK];
    memset(table, 0, sizeof table);
    for (int i = 0; i < n; i++)
        table[pts[i].assign][pts[i].label]++;
    int correct = 0;
    for (int j = 0; j < k; j++) {
        int m = 0;
        for (int b = 0; b < blobs; b++)
            if (table[j][b] > m)
                m = table[j][b];
        correct += m;
    }
    return correct * 1000 / n;
}

static int64_t min_center_gap(const Centroid *cent, int k)
{
    int64_t best = INT64_MAX;
    for (int a = 0; a < k; a++)
        for (int b = a + 1; b < k; b++) {
            int32_t pa[DIM];
            for (int d = 0; d < DIM; d++)
                pa[d] = (int32_t)cent[a].c[d];
            int64_t d2 = dist2(pa, cent[b].c);
            if (d2 < best)
                best = d2;
        }
    return best;
}

int main(void)
{
    static Point pts[NPOINTS];
    static const int configs[][2] = {{3, 3}, {5, 5}, {5, 3}, {4, 8}, {8, 8}};
    for (size_t t = 0; t < sizeof configs / sizeof configs[0]; t++) {
        int blobs = configs[t][0], k = configs[t][1];
        generate(pts, NPOINTS, blobs);
        Centroid cent[MAXK];
        memset(cent, 0, sizeof cent);
        seed_plus_plus(pts, NPOINTS, cent, k);
        int iters = 0, repaired = 0;
        int64_t first = -1, last = 0;
        for (; iters < 50; iters++) {
            int changed = assign_points(pts, NPOINTS, cent, k);
            repaired += update_centroids(pts, NPOINTS, cent, k);
            last = inertia(pts, NPOINTS, cent);
            if (first < 0)
                first = last;
            if (changed == 0)
                break;
        }
        int sizes[MAXK] = {0};
        for (int i = 0; i < NPOINTS; i++)
            sizes[pts[i].assign]++;
        printf("blobs=%d k=%d iters=%d repaired=%d inertia %lld -> %lld purity=%d gap=%lld sizes=", blobs, k, iters,
               repaired, (long long)first, (long long)last, purity(pts, NPOINTS, k, blobs),
               (long long)min_center_gap(cent, k));
        for (int j = 0; j < k; j++)
            printf("%s%d", j ? "/" : "", sizes[j]);
        printf("\n");
    }
    return 0;
}
