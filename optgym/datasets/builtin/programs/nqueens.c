/* optgym-builtin: N-queens solution counting by bitmask backtracking with mirror symmetry, a plain array backtracker for cross-checking, and classification of solutions into symmetry classes. Style: recursive, bit-twiddling, loop-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 16

static uint64_t nodes;

static uint64_t solve_bits(uint32_t all, uint32_t cols, uint32_t ld, uint32_t rd)
{
    nodes++;
    if (cols == all)
        return 1;
    uint64_t count = 0;
    uint32_t avail = all & ~(cols | ld | rd);
    while (avail) {
        uint32_t bit = avail & (0u - avail);
        avail ^= bit;
        count += solve_bits(all, cols | bit, ((ld | bit) << 1) & all, (rd | bit) >> 1);
    }
    return count;
}

/* Place the first queen only in the left half and double, handling the middle column for odd n. */
static uint64_t count_symmetric(int n)
{
    uint32_t all = (1u << n) - 1u;
    uint64_t total = 0;
    for (int c = 0; c < n / 2; c++) {
        uint32_t bit = 1u << c;
        total += solve_bits(all, bit, (bit << 1) & all, bit >> 1);
    }
    total *= 2;
    if (n & 1) {
        uint32_t bit = 1u << (n / 2);
        total += solve_bits(all, bit, (bit << 1) & all, bit >> 1);
    }
    return total;
}

static int safe(const int *pos, int row, int col)
{
    for (int r = 0; r < row; r++) {
        int c = pos[r];
        if (c == col || c - col == r - row || c - col == row - r)
            return 0;
    }
    return 1;
}

static uint64_t solve_array(int *pos, int row, int n)
{
    if (row == n)
        return 1;
    uint64_t count = 0;
    for (int col = 0; col < n; col++) {
        if (safe(pos, row, col)) {
            pos[row] = col;
            count += solve_array(pos, row + 1, n);
        }
    }
    return count;
}

/* Symmetry transforms on a solution given as pos[row] = col. */
static void rotate90(const int *in, int *out, int n)
{
    for (int r = 0; r < n; r++)
        out[in[r]] = n - 1 - r;
}

static void mirror(const int *in, int *out, int n)
{
    for (int r = 0; r < n; r++)
        out[r] = n - 1 - in[r];
}

static int compare_pos(const int *a, const int *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

typedef struct {
    int n;
    int total;
    int unique;
    int orbit_hist[9];
    uint32_t hash;
} Classifier;

/* A solution is the canonical representative if it is lexicographically smallest in its orbit. */
static void classify(Classifier *cl, const int *pos)
{
    int n = cl->n;
    int cur[MAXN], tmp[MAXN], m[MAXN];
    int orbit[8][MAXN];
    memcpy(cur, pos, sizeof(int) * (size_t)n);
    for (int k = 0; k < 4; k++) {
        memcpy(orbit[2 * k], cur, sizeof(int) * (size_t)n);
        mirror(cur, m, n);
        memcpy(orbit[2 * k + 1], m, sizeof(int) * (size_t)n);
        rotate90(cur, tmp, n);
        memcpy(cur, tmp, sizeof(int) * (size_t)n);
    }
    cl->total++;
    for (int k = 1; k < 8; k++)
        if (compare_pos(orbit[k], pos, n) < 0)
            return;
    int distinct = 0;
    for (int k = 0; k < 8; k++) {
        int seen = 0;
        for (int j = 0; j < k; j++)
            if (compare_pos(orbit[j], orbit[k], n) == 0)
                seen = 1;
        distinct += !seen;
    }
    cl->unique++;
    cl->orbit_hist[distinct]++;
    for (int i = 0; i < n; i++)
        cl->hash = cl->hash * 17u + (uint32_t)pos[i];
}

static void enumerate(Classifier *cl, int *pos, int row, uint32_t cols, uint32_t ld, uint32_t rd)
{
    int n = cl->n;
    uint32_t all = (1u << n) - 1u;
    if (row == n) {
        classify(cl, pos);
        return;
    }
    uint32_t avail = all & ~(cols | ld | rd);
    while (avail) {
        uint32_t bit = avail & (0u - avail);
        avail ^= bit;
        int col = 0;
        while (!((bit >> col) & 1u))
            col++;
        pos[row] = col;
        enumerate(cl, pos, row + 1, cols | bit, ((ld | bit) << 1) & all, (rd | bit) >> 1);
    }
}

int main(void)
{
    uint64_t sum = 0;
    for (int n = 1; n <= 10; n++) {
        int pos[MAXN];
        nodes = 0;
        uint32_t all = (1u << n) - 1u;
        uint64_t a = solve_bits(all, 0, 0, 0);
        uint64_t plain_nodes = nodes;
        uint64_t b = count_symmetric(n);
        uint64_t c = solve_array(pos, 0, n);
        Classifier cl;
        memset(&cl, 0, sizeof cl);
        cl.n = n;
        enumerate(&cl, pos, 0, 0, 0, 0);
        printf("n=%2d solutions=%llu sym=%llu array=%llu nodes=%llu unique=%d orbits(1/2/4/8)=%d/%d/%d/%d h=%08x\n", n,
               (unsigned long long)a, (unsigned long long)b, (unsigned long long)c, (unsigned long long)plain_nodes,
               cl.unique, cl.orbit_hist[1], cl.orbit_hist[2], cl.orbit_hist[4], cl.orbit_hist[8], (unsigned)cl.hash);
        sum += a * (uint64_t)n;
    }
    nodes = 0;
    uint64_t big = count_symmetric(11);
    printf("n=11 solutions=%llu nodes=%llu weighted=%llu\n", (unsigned long long)big, (unsigned long long)nodes,
           (unsigned long long)sum);
    return 0;
}
