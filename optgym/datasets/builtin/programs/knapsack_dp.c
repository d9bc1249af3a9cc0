/* optgym-builtin: 0/1, bounded and unbounded knapsack by dynamic programming with item reconstruction, checked against exhaustive search on small instances. Style: loop-heavy, struct-heavy, recursive */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXITEMS 64
#define MAXCAP 2000

typedef struct {
    int weight;
    int value;
    int count; /* copies available for the bounded variant */
} Item;

typedef struct {
    Item items[MAXITEMS];
    int n;
    int capacity;
} Instance;

static uint32_t rs = 2463534242u;

static int rnd(int lo, int hi)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return lo + (int)(rs % (uint32_t)(hi - lo + 1));
}

static void make_instance(Instance *ins, int n, int cap, int wmax, int vmax)
{
    ins->n = n;
    ins->capacity = cap;
    for (int i = 0; i < n; i++) {
        ins->items[i].weight = rnd(1, wmax);
        /* Values loosely correlated with weight make the instances less trivial. */
        int factor = rnd(2, 5); /* separate statements fix the order of the generator calls */
        ins->items[i].value = ins->items[i].weight * factor + rnd(0, vmax);
        ins->items[i].count = rnd(1, 4);
    }
}

static int max_int(int a, int b) { return a > b ? a : b; }

/* Full table so the chosen set can be reconstructed. */
static int knapsack01(const Instance *ins, unsigned char *chosen)
{
    int n = ins->n, cap = ins->capacity;
    int *table = calloc((size_t)(n + 1) * (size_t)(cap + 1), sizeof(int));
#define T(i, w) table[(size_t)(i) * (size_t)(cap + 1) + (size_t)(w)]
    for (int i = 1; i <= n; i++) {
        const Item *it = &ins->items[i - 1];
        for (int w = 0; w <= cap; w++) {
            int best = T(i - 1, w);
            if (it->weight <= w)
                best = max_int(best, T(i - 1, w - it->weight) + it->value);
            T(i, w) = best;
        }
    }
    int result = T(n, cap);
    int w = cap;
    for (int i = n; i >= 1; i--) {
        chosen[i - 1] = (unsigned char)(T(i, w) != T(i - 1, w));
        if (chosen[i - 1])
            w -= ins->items[i - 1].weight;
    }
#undef T
    free(table);
    return result;
}

/* Space-optimised 1-D version, should agree with the table version. */
static int knapsack01_rolling(const Instance *ins)
{
    int dp[MAXCAP + 1];
    memset(dp, 0, sizeof dp);
    for (int i = 0; i < ins->n; i++) {
        int wt = ins->items[i].weight, val = ins->items[i].value;
        for (int w = ins->capacity; w >= wt; w--)
            if (dp[w - wt] + val > dp[w])
                dp[w] = dp[w - wt] + val;
    }
    return dp[ins->capacity];
}

static int knapsack_unbounded(const Instance *ins)
{
    int dp[MAXCAP + 1];
    memset(dp, 0, sizeof dp);
    for (int w = 1; w <= ins->capacity; w++)
        for (int i = 0; i < ins->n; i++) {
            const Item *it = &ins->items[i];
            if (it->weight <= w && dp[w - it->weight] + it->value > dp[w])
                dp[w] = dp[w - it->weight] + it->value;
        }
    return dp[ins->capacity];
}

/* Bounded knapsack via binary splitting of counts into 0/1 items. */
static int knapsack_bounded(const Instance *ins)
{
    int dp[MAXCAP + 1];
    memset(dp, 0, sizeof dp);
    for (int i = 0; i < ins->n; i++) {
        int left = ins->items[i].count;
        for (int k = 1; left > 0; k <<= 1) {
            int take = k < left ? k : left;
            left -= take;
            int wt = ins->items[i].weight * take, val = ins->items[i].value * take;
            for (int w = ins->capacity; w >= wt; w--)
                dp[w] = max_int(dp[w], dp[w - wt] + val);
        }
    }
    return dp[ins->capacity];
}

static int brute_best;

static void brute(const Instance *ins, int idx, int weight, int value)
{
    if (weight > ins->capacity)
        return;
    if (idx == ins->n) {
        if (value > brute_best)
            brute_best = value;
        return;
    }
    brute(ins, idx + 1, weight + ins->items[idx].weight, value + ins->items[idx].value);
    brute(ins, idx + 1, weight, value);
}

static int brute_bounded(const Instance *ins, int idx, int cap)
{
    if (idx == ins->n)
        return 0;
    int best = 0;
    const Item *it = &ins->items[idx];
    for (int c = 0; c <= it->count && c * it->weight <= cap; c++) {
        int v = c * it->value + brute_bounded(ins, idx + 1, cap - c * it->weight);
        if (v > best)
            best = v;
    }
    return best;
}

static uint32_t chosen_hash(const unsigned char *chosen, int n)
{
    uint32_t h = 5381;
    for (int i = 0; i < n; i++)
        h = h * 33u + chosen[i];
    return h;
}

int main(void)
{
    Instance ins;
    unsigned char chosen[MAXITEMS];
    uint32_t total = 0;
    int agree = 0, cases = 0;

    /* Small instances, verified against exhaustive search. */
    for (int t = 0; t < 12; t++) {
        make_instance(&ins, 10 + t % 5, 40 + 7 * t, 25, 20);
        int a = knapsack01(&ins, chosen);
        int b = knapsack01_rolling(&ins);
        brute_best = 0;
        brute(&ins, 0, 0, 0);
        int c = knapsack_bounded(&ins);
        int d = brute_bounded(&ins, 0, ins.capacity);
        cases++;
        if (a == b && b == brute_best && c == d)
            agree++;
        total = total * 31u + (uint32_t)a + (uint32_t)c * 7u;
    }
    printf("small: %d/%d agree total=%08x\n", agree, cases, (unsigned)total);

    /* Larger instances, DP only. */
    for (int t = 0; t < 5; t++) {
        make_instance(&ins, 40 + 5 * t, 800 + 250 * t, 90, 60);
        int a = knapsack01(&ins, chosen);
        int b = knapsack01_rolling(&ins);
        int u = knapsack_unbounded(&ins);
        int bd = knapsack_bounded(&ins);
        int wsum = 0, vsum = 0, nsel = 0;
        for (int i = 0; i < ins.n; i++)
            if (chosen[i]) {
                wsum += ins.items[i].weight;
                vsum += ins.items[i].value;
                nsel++;
            }
        printf("n=%d cap=%d 01=%d rolling=%d recon=%d/%d picked=%d bounded=%d unbounded=%d sel=%08x\n", ins.n,
               ins.capacity, a, b, vsum, wsum, nsel, bd, u, (unsigned)chosen_hash(chosen, ins.n));
    }
    return 0;
}
