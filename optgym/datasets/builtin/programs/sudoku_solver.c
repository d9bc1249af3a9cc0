/* optgym-builtin: Sudoku generator and solver using candidate bitmasks, naked-single propagation and minimum-remaining-values backtracking, with solution counting for uniqueness. Style: recursive, bit-twiddling, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALL 0x1FFu

typedef struct {
    uint8_t cell[81];
    uint16_t rows[9], cols[9], boxes[9]; /* used digits as bitmasks */
} Grid;

static uint32_t rng = 987654321u;

static uint32_t rand32(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static int box_of(int r, int c) { return (r / 3) * 3 + c / 3; }

static int bitcount(uint32_t x)
{
    int n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

static int lowest_digit(uint32_t mask)
{
    int d = 1;
    while (!(mask & 1u)) {
        mask >>= 1;
        d++;
    }
    return d;
}

static void grid_clear(Grid *g) { memset(g, 0, sizeof *g); }

static uint16_t candidates(const Grid *g, int i)
{
    int r = i / 9, c = i % 9;
    return (uint16_t)(ALL & ~(g->rows[r] | g->cols[c] | g->boxes[box_of(r, c)]));
}

static void place(Grid *g, int i, int d)
{
    int r = i / 9, c = i % 9;
    uint16_t bit = (uint16_t)(1u << (d - 1));
    g->cell[i] = (uint8_t)d;
    g->rows[r] |= bit;
    g->cols[c] |= bit;
    g->boxes[box_of(r, c)] |= bit;
}

static int grid_load(Grid *g, const uint8_t *cells)
{
    grid_clear(g);
    for (int i = 0; i < 81; i++) {
        if (!cells[i])
            continue;
        if (!(candidates(g, i) & (1u << (cells[i] - 1))))
            return 0;
        place(g, i, cells[i]);
    }
    return 1;
}

/* Fill forced cells repeatedly; returns 0 on contradiction. */
static int propagate(Grid *g, long *steps)
{
    int changed = 1;
    while (changed) {
        changed = 0;
        for (int i = 0; i < 81; i++) {
            if (g->cell[i])
                continue;
            uint16_t m = candidates(g, i);
            if (m == 0)
                return 0;
            if ((m & (m - 1)) == 0) {
                place(g, i, lowest_digit(m));
                changed = 1;
                ++*steps;
            }
        }
    }
    return 1;
}

typedef struct {
    long nodes;
    long props;
    int solutions;
    int limit;
    Grid first;
    int randomized;
} Search;

static void search(Search *s, const Grid *in)
{
    Grid g = *in;
    s->nodes++;
    if (!propagate(&g, &s->props))
        return;
    int best = -1, bestn = 10;
    for (int i = 0; i < 81; i++) {
        if (g.cell[i])
            continue;
        int n = bitcount(candidates(&g, i));
        if (n < bestn) {
            bestn = n;
            best = i;
        }
    }
    if (best < 0) {
        if (s->solutions == 0)
            s->first = g;
        s->solutions++;
        return;
    }
    uint16_t m = candidates(&g, best);
    int order[9], k = 0;
    for (int d = 1; d <= 9; d++)
        if (m & (1u << (d - 1)))
            order[k++] = d;
    if (s->randomized)
        for (int i = k - 1; i > 0; i--) {
            int j = (int)(rand32() % (uint32_t)(i + 1));
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    for (int x = 0; x < k && s->solutions < s->limit; x++) {
        Grid h = g;
        place(&h, best, order[x]);
        search(s, &h);
    }
}

static int validate(const Grid *g)
{
    for (int u = 0; u < 9; u++) {
        uint16_t r = 0, c = 0, b = 0;
        for (int k = 0; k < 9; k++) {
            r |= (uint16_t)(1u << (g->cell[u * 9 + k] - 1));
            c |= (uint16_t)(1u << (g->cell[k * 9 + u] - 1));
            b |= (uint16_t)(1u << (g->cell[((u / 3) * 3 + k / 3) * 9 + (u % 3) * 3 + k % 3] - 1));
        }
        if (r != ALL || c != ALL || b != ALL)
            return 0;
    }
    return 1;
}

static int count_solutions(const uint8_t *cells, int limit, Search *s)
{
    Grid g;
    memset(s, 0, sizeof *s);
    s->limit = limit;
    if (!grid_load(&g, cells))
        return 0;
    search(s, &g);
    return s->solutions;
}

/* Make a full random grid, then remove clues while the puzzle stays unique. */
static int make_puzzle(uint8_t *puzzle, int target_clues)
{
    Grid empty;
    Search s;
    grid_clear(&empty);
    memset(&s, 0, sizeof s);
    s.limit = 1;
    s.randomized = 1;
    search(&s, &empty);
    memcpy(puzzle, s.first.cell, 81);
    int clues = 81;
    for (int attempt = 0; attempt < 200 && clues > target_clues; attempt++) {
        int i = (int)(rand32() % 81u);
        if (!puzzle[i])
            continue;
        uint8_t saved = puzzle[i];
        puzzle[i] = 0;
        Search t;
        if (count_solutions(puzzle, 2, &t) != 1)
            puzzle[i] = saved;
        else
            clues--;
    }
    return clues;
}

int main(void)
{
    static const char *fixed =
        "530070000600195000098000060800060003400803001700020006060000280000419005000080079";
    uint8_t cells[81];
    for (int i = 0; i < 81; i++)
        cells[i] = (uint8_t)(fixed[i] - '0');
    Search s;
    int n = count_solutions(cells, 10, &s);
    uint32_t h = 0;
    for (int i = 0; i < 81; i++)
        h = h * 10u + s.first.cell[i];
    printf("fixed: solutions=%d valid=%d nodes=%ld props=%ld h=%08x\n", n, validate(&s.first), s.nodes, s.props,
           (unsigned)h);
    printf("row0=");
    for (int i = 0; i < 9; i++)
        printf("%d", s.first.cell[i]);
    printf("\n");

    uint32_t total = 0;
    for (int p = 0; p < 4; p++) {
        uint8_t puzzle[81];
        int clues = make_puzzle(puzzle, 30 - 2 * p);
        int sols = count_solutions(puzzle, 5, &s);
        uint32_t ph = 0;
        for (int i = 0; i < 81; i++)
            ph = ph * 31u + puzzle[i];
        printf("puzzle %d: clues=%d solutions=%d valid=%d nodes=%ld props=%ld ph=%08x\n", p, clues, sols,
               validate(&s.first), s.nodes, s.props, (unsigned)ph);
        total ^= ph + (uint32_t)s.nodes;
    }
    /* An almost-empty grid has many solutions; count up to a cap. */
    memset(cells, 0, sizeof cells);
    cells[0] = 1;
    cells[40] = 5;
    n = count_solutions(cells, 300, &s);
    printf("sparse: solutions>=%d nodes=%ld total=%08x\n", n, s.nodes, (unsigned)total);
    return 0;
}
