/* optgym-builtin: Fixed-point Jacobi iterations of a 2D heat equation with Dirichlet boundaries, a 5-point and a 9-point stencil, residual tracking and a red-black Gauss-Seidel comparison. Style: loop-heavy, numeric */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define W 32
#define H 28
#define FRAC 16
#define ONE (1 << FRAC)
/* summed absolute change over the grid below which a solver is considered settled */
#define CONVERGED (8 * ONE)

typedef int32_t Grid[H][W];

static void init_grid(Grid g)
{
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
            int32_t v = 0;
            if (y == 0) v = 100 * ONE;               /* hot top edge */
            else if (x == 0) v = 25 * ONE;           /* warm left edge */
            else if (y == H - 1 || x == W - 1) v = 0;
            g[y][x] = v;
        }
    /* an internal hot spot held fixed by the update rule below */
    g[H / 2][W / 2] = 200 * ONE;
}

static int is_fixed(int y, int x)
{
    return y == 0 || x == 0 || y == H - 1 || x == W - 1 || (y == H / 2 && x == W / 2);
}

static int64_t jacobi5(Grid src, Grid dst)
{
    int64_t residual = 0;
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
            if (is_fixed(y, x)) {
                dst[y][x] = src[y][x];
                continue;
            }
            int32_t v = (src[y - 1][x] + src[y + 1][x] + src[y][x - 1] + src[y][x + 1]) >> 2;
            int32_t d = v - src[y][x];
            residual += d < 0 ? -d : d;
            dst[y][x] = v;
        }
    return residual;
}

static int64_t jacobi9(Grid src, Grid dst)
{
    /* weights 4 for edge neighbours, 1 for diagonals, total 20 */
    int64_t residual = 0;
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
            if (is_fixed(y, x)) {
                dst[y][x] = src[y][x];
                continue;
            }
            int64_t s = 4LL * (src[y - 1][x] + src[y + 1][x] + src[y][x - 1] + src[y][x + 1]) + src[y - 1][x - 1] +
                        src[y - 1][x + 1] + src[y + 1][x - 1] + src[y + 1][x + 1];
            int32_t v = (int32_t)(s / 20);
            int32_t d = v - src[y][x];
            residual += d < 0 ? -d : d;
            dst[y][x] = v;
        }
    return residual;
}

static int64_t redblack_sweep(Grid g)
{
    int64_t residual = 0;
    for (int color = 0; color < 2; ++color)
        for (int y = 1; y < H - 1; ++y)
            for (int x = 1 + ((y + color) & 1); x < W - 1; x += 2) {
                if (is_fixed(y, x)) continue;
                int32_t v = (g[y - 1][x] + g[y + 1][x] + g[y][x - 1] + g[y][x + 1]) >> 2;
                int32_t d = v - g[y][x];
                residual += d < 0 ? -d : d;
                g[y][x] = v;
            }
    return residual;
}

static int64_t total_heat(Grid g)
{
    int64_t s = 0;
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) s += g[y][x];
    return s;
}

static uint32_t grid_hash(Grid g)
{
    uint32_t h = 0x12345u;
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) h = (h ^ (uint32_t)g[y][x]) * 0x01000193u;
    return h;
}

static void print_row_profile(const char *label, Grid g)
{
    printf("%s:", label);
    for (int x = 2; x < W; x += 9) printf(" %d", g[H / 4][x] >> FRAC);
    printf("\n");
}

typedef int64_t (*Step)(Grid, Grid);

static int run_jacobi(const char *name, Step step, Grid a, Grid b, int max_iter)
{
    init_grid(a);
    init_grid(b);
    int it, done = 0;
    int64_t r = 0;
    Grid *final = (Grid *)a;
    for (it = 0; it < max_iter && !done; ++it) {
        r = (it & 1) ? step(b, a) : step(a, b);
        final = (it & 1) ? (Grid *)a : (Grid *)b;
        done = r < CONVERGED;
    }
    printf("%s: iters=%d residual=%lld heat=%lld hash=%08x\n", name, it, (long long)r,
           (long long)(total_heat(*final) >> FRAC), (unsigned)grid_hash(*final));
    print_row_profile(name, *final);
    return it;
}

int main(void)
{
    Grid *a = malloc(sizeof(Grid)), *b = malloc(sizeof(Grid));
    if (!a || !b) return 1;
    run_jacobi("jacobi5", jacobi5, *a, *b, 800);
    run_jacobi("jacobi9", jacobi9, *a, *b, 800);
    init_grid(*a);
    int it;
    int64_t r = 0;
    for (it = 0; it < 800; ++it)
        if ((r = redblack_sweep(*a)) < CONVERGED) break;
    printf("redblack: iters=%d residual=%lld heat=%lld hash=%08x\n", it + 1, (long long)r,
           (long long)(total_heat(*a) >> FRAC), (unsigned)grid_hash(*a));
    print_row_profile("redblack", *a);
    free(a);
    free(b);
    return 0;
}
