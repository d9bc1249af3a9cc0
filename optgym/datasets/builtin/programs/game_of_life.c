/* optgym-builtin: Conway's Game of Life on a 64x64 torus, simulated both with a byte grid and with bit-parallel 64-bit rows, plus pattern seeding, population tracking and cycle detection by state hashing. Style: bit-twiddling, loop-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N 64
#define HISTORY 64

typedef struct {
    uint8_t c[N][N];
} ByteGrid;

typedef struct {
    uint64_t row[N];
} BitGrid;

static uint32_t seed = 0x2545F491u;

static uint32_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
}

static int wrap(int i) { return (i + N) % N; }

static void byte_step(const ByteGrid *in, ByteGrid *out)
{
    for (int r = 0; r < N; r++) {
        const uint8_t *up = in->c[wrap(r - 1)], *mid = in->c[r], *down = in->c[wrap(r + 1)];
        uint8_t *dst = out->c[r];
        for (int c = 0; c < N; c++) {
            int l = c == 0 ? N - 1 : c - 1, rt = c == N - 1 ? 0 : c + 1;
            int n = up[l] + up[c] + up[rt] + mid[l] + mid[rt] + down[l] + down[c] + down[rt];
            dst[c] = (uint8_t)(n == 3 || (n == 2 && mid[c]));
        }
    }
}

static uint64_t rotl1(uint64_t x) { return (x << 1) | (x >> 63); }
static uint64_t rotr1(uint64_t x) { return (x >> 1) | (x << 63); }

/* Bit-sliced full adders count the eight neighbours of all 64 cells in a row at once. */
static void bit_step(const BitGrid *in, BitGrid *out)
{
    for (int r = 0; r < N; r++) {
        const uint64_t up = in->row[(r + N - 1) % N], mid = in->row[r], down = in->row[(r + 1) % N];
        uint64_t n[8] = {rotl1(up), up, rotr1(up), rotl1(mid), rotr1(mid), rotl1(down), down, rotr1(down)};
        uint64_t s0 = 0, s1 = 0, s2 = 0; /* 3-bit counter, saturating meaning >=4 in s2 */
        for (int k = 0; k < 8; k++) {
            uint64_t carry0 = s0 & n[k];
            s0 ^= n[k];
            uint64_t carry1 = s1 & carry0;
            s1 ^= carry0;
            s2 |= carry1;
        }
        uint64_t three = s0 & s1 & ~s2;
        uint64_t two = ~s0 & s1 & ~s2;
        out->row[r] = three | (two & mid);
    }
}

static void to_bits(const ByteGrid *g, BitGrid *b)
{
    for (int r = 0; r < N; r++) {
        uint64_t w = 0;
        for (int c = 0; c < N; c++)
            w |= (uint64_t)g->c[r][c] << c;
        b->row[r] = w;
    }
}

static int popcount64(uint64_t x)
{
    int n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

static int population_bits(const BitGrid *b)
{
    int p = 0;
    for (int r = 0; r < N; r++)
        p += popcount64(b->row[r]);
    return p;
}

static int population_bytes(const ByteGrid *g)
{
    int p = 0;
    const uint8_t *cell = &g->c[0][0];
    for (const uint8_t *end = cell + N * N; cell < end; cell++)
        p += *cell;
    return p;
}

static uint64_t hash_bits(const BitGrid *b)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int r = 0; r < N; r++) {
        h ^= b->row[r];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

static void stamp(ByteGrid *g, const char *const *rows, int nrows, int r0, int c0)
{
    for (int r = 0; r < nrows; r++)
        for (int c = 0; rows[r][c]; c++)
            if (rows[r][c] == 'O')
                g->c[wrap(r0 + r)][wrap(c0 + c)] = 1;
}

static void seed_random(ByteGrid *g, int percent)
{
    for (int r = 0; r < N; r++)
        for (int c = 0; c < N; c++)
            g->c[r][c] = (uint8_t)(rnd() % 100u < (uint32_t)percent);
}

typedef struct {
    int generations;
    int mismatches;
    int final_pop;
    int min_pop, max_pop;
    int cycle_start, cycle_len;
    uint64_t final_hash;
} RunResult;

static RunResult run(ByteGrid *g, int gens)
{
    RunResult res = {0, 0, 0, 1 << 30, 0, -1, 0, 0};
    ByteGrid *tmp = malloc(sizeof *tmp);
    BitGrid a, b;
    uint64_t hist[HISTORY];
    to_bits(g, &a);
    for (int gen = 0; gen < gens; gen++) {
        byte_step(g, tmp);
        memcpy(g, tmp, sizeof *g);
        bit_step(&a, &b);
        a = b;
        BitGrid check;
        to_bits(g, &check);
        if (memcmp(&check, &a, sizeof a) != 0)
            res.mismatches++;
        int p = population_bits(&a);
        if (p != population_bytes(g))
            res.mismatches++;
        if (p < res.min_pop)
            res.min_pop = p;
        if (p > res.max_pop)
            res.max_pop = p;
        uint64_t h = hash_bits(&a);
        if (res.cycle_start < 0) {
            int lookback = gen < HISTORY ? gen : HISTORY;
            for (int k = 1; k <= lookback; k++)
                if (hist[(gen - k) % HISTORY] == h) {
                    res.cycle_start = gen - k;
                    res.cycle_len = k;
                    break;
                }
        }
        hist[gen % HISTORY] = h;
        res.generations++;
    }
    res.final_pop = population_bits(&a);
    res.final_hash = hash_bits(&a);
    free(tmp);
    return res;
}

static void report(const char *name, const RunResult *r)
{
    printf("%-8s gens=%d pop=%d min=%d max=%d cycle=%d@%d mismatches=%d hash=%016llx\n", name, r->generations,
           r->final_pop, r->min_pop, r->max_pop, r->cycle_len, r->cycle_start, r->mismatches,
           (unsigned long long)r->final_hash);
}

int main(void)
{
    static const char *const glider[] = {".O.", "..O", "OOO"};
    static const char *const blinker[] = {"OOO"};
    static const char *const rpent[] = {".OO", "OO.", ".O."};
    static const char *const pulsar_quarter[] = {"..OOO...OOO..", ".............", "O....O.O....O", "O....O.O....O",
                                                 "O....O.O....O", "..OOO...OOO..", ".............", "..OOO...OOO..",
                                                 "O....O.O....O", "O....O.O....O", "O....O.O....O", ".............",
                                                 "..OOO...OOO.."};
    ByteGrid *g = calloc(1, sizeof *g);
    RunResult r;

    stamp(g, glider, 3, 1, 1);
    r = run(g, 72);
    report("glider", &r);

    memset(g, 0, sizeof *g);
    stamp(g, blinker, 1, 10, 10);
    stamp(g, pulsar_quarter, 13, 30, 30);
    r = run(g, 40);
    report("osc", &r);

    memset(g, 0, sizeof *g);
    stamp(g, rpent, 3, 30, 30);
    r = run(g, 90);
    report("rpent", &r);

    for (int pct = 15; pct <= 45; pct += 15) {
        char name[16];
        seed_random(g, pct);
        r = run(g, 60);
        snprintf(name, sizeof name, "soup%d", pct);
        report(name, &r);
    }
    free(g);
    return 0;
}
