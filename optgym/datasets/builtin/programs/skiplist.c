/* optgym-builtin: Ordered map as a skip list with deterministic pseudo-random levels: insert, update, delete, search, rank and range queries, checked against a sorted array reference. Style: pointer-heavy, loop-heavy, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXLEVEL 16
#define NOPS 12000
#define KEYSPACE 5000

typedef struct Node {
    int key;
    int value;
    int level;
    struct Node *next[MAXLEVEL];
    int span[MAXLEVEL]; /* number of level-0 steps this link skips, for rank queries */
} Node;

typedef struct {
    Node head;
    int level;
    int size;
    uint32_t rng;
    long steps;
} SkipList;

static int random_level(SkipList *s)
{
    /* Each extra level with probability 1/4, from a xorshift stream owned by the list. */
    int lvl = 1;
    for (;;) {
        s->rng ^= s->rng << 13;
        s->rng ^= s->rng >> 17;
        s->rng ^= s->rng << 5;
        if ((s->rng & 3u) != 0 || lvl >= MAXLEVEL)
            break;
        lvl++;
    }
    return lvl;
}

static void sl_init(SkipList *s, uint32_t seed)
{
    memset(s, 0, sizeof *s);
    s->level = 1;
    s->rng = seed;
    s->head.level = MAXLEVEL;
}

/* Finds predecessors at each level and their rank (position, 0 = head). */
static Node *sl_find_path(SkipList *s, int key, Node **update, int *rank)
{
    Node *x = &s->head;
    int r = 0;
    for (int i = s->level - 1; i >= 0; i--) {
        while (x->next[i] && x->next[i]->key < key) {
            r += x->span[i];
            x = x->next[i];
            s->steps++;
        }
        update[i] = x;
        rank[i] = r;
    }
    return x->next[0];
}

static int sl_insert(SkipList *s, int key, int value)
{
    Node *update[MAXLEVEL];
    int rank[MAXLEVEL];
    Node *x = sl_find_path(s, key, update, rank);
    if (x && x->key == key) {
        x->value = value;
        return 0;
    }
    int lvl = random_level(s);
    if (lvl > s->level) {
        for (int i = s->level; i < lvl; i++) {
            update[i] = &s->head;
            rank[i] = 0;
            s->head.span[i] = s->size;
        }
        s->level = lvl;
    }
    Node *n = calloc(1, sizeof *n);
    n->key = key;
    n->value = value;
    n->level = lvl;
    for (int i = 0; i < lvl; i++) {
        n->next[i] = update[i]->next[i];
        update[i]->next[i] = n;
        n->span[i] = update[i]->span[i] - (rank[0] - rank[i]);
        update[i]->span[i] = rank[0] - rank[i] + 1;
    }
    for (int i = lvl; i < s->level; i++)
        update[i]->span[i]++;
    s->size++;
    return 1;
}

static int sl_delete(SkipList *s, int key)
{
    Node *update[MAXLEVEL];
    int rank[MAXLEVEL];
    Node *x = sl_find_path(s, key, update, rank);
    if (!x || x->key != key)
        return 0;
    for (int i = 0; i < s->level; i++) {
        if (update[i]->next[i] == x) {
            update[i]->span[i] += x->span[i] - 1;
            update[i]->next[i] = x->next[i];
        } else {
            update[i]->span[i]--;
        }
    }
    free(x);
    while (s->level > 1 && s->head.next[s->level - 1] == NULL)
        s->level--;
    s->size--;
    return 1;
}

static const Node *sl_search(SkipList *s, int key)
{
    const Node *x = &s->head;
    for (int i = s->level - 1; i >= 0; i--)
        while (x->next[i] && x->next[i]->key < key) {
            x = x->next[i];
            s->steps++;
        }
    x = x->next[0];
    return x && x->key == key ? x : NULL;
}

/* Element with 1-based rank r, or NULL. */
static const Node *sl_by_rank(const SkipList *s, int r)
{
    const Node *x = &s->head;
    int traversed = 0;
    for (int i = s->level - 1; i >= 0; i--)
        while (x->next[i] && traversed + x->span[i] <= r) {
            traversed += x->span[i];
            x = x->next[i];
        }
    return traversed == r && x != &s->head ? x : NULL;
}

static long sl_range_sum(SkipList *s, int lo, int hi, int *count)
{
    Node *update[MAXLEVEL];
    int rank[MAXLEVEL];
    const Node *x = sl_find_path(s, lo, update, rank);
    long sum = 0;
    *count = 0;
    for (; x && x->key <= hi; x = x->next[0]) {
        sum += x->value;
        ++*count;
    }
    return sum;
}

static void sl_free(SkipList *s)
{
    Node *x = s->head.next[0];
    while (x) {
        Node *n = x->next[0];
        free(x);
        x = n;
    }
}

/* Reference: dense arrays indexed by key. */
typedef struct {
    int present[KEYSPACE];
    int value[KEYSPACE];
    int size;
} Ref;

static uint32_t ops_rng = 99991u;
static int rnd(int n)
{
    ops_rng = ops_rng * 1664525u + 1013904223u;
    return (int)((ops_rng >> 8) % (uint32_t)n);
}

int main(void)
{
    static SkipList sl;
    static Ref ref;
    sl_init(&sl, 0x1234567u);
    memset(&ref, 0, sizeof ref);
    int mismatches = 0, inserted = 0, updated = 0, deleted = 0, found = 0;
    for (int i = 0; i < NOPS; i++) {
        int op = rnd(10), key = rnd(KEYSPACE);
        if (op < 5) {
            int v = rnd(100000);
            if (sl_insert(&sl, key, v))
                inserted++;
            else
                updated++;
            if (!ref.present[key])
                ref.size++;
            ref.present[key] = 1;
            ref.value[key] = v;
        } else if (op < 7) {
            int d = sl_delete(&sl, key);
            deleted += d;
            if (d != ref.present[key])
                mismatches++;
            if (ref.present[key])
                ref.size--;
            ref.present[key] = 0;
        } else {
            const Node *n = sl_search(&sl, key);
            if ((n != NULL) != ref.present[key] || (n && n->value != ref.value[key]))
                mismatches++;
            found += n != NULL;
        }
    }
    /* Rank queries against the reference order. */
    int r = 0, rank_bad = 0;
    for (int k = 0; k < KEYSPACE; k++) {
        if (!ref.present[k])
            continue;
        r++;
        const Node *n = sl_by_rank(&sl, r);
        if (!n || n->key != k)
            rank_bad++;
    }
    long rs_total = 0;
    int range_bad = 0;
    for (int q = 0; q < 200; q++) {
        int lo = rnd(KEYSPACE), hi = lo + rnd(400);
        int cnt;
        long sum = sl_range_sum(&sl, lo, hi, &cnt);
        long rsum = 0;
        int rcnt = 0;
        for (int k = lo; k <= hi && k < KEYSPACE; k++)
            if (ref.present[k]) {
                rsum += ref.value[k];
                rcnt++;
            }
        if (sum != rsum || cnt != rcnt)
            range_bad++;
        rs_total += sum;
    }
    int level_hist[MAXLEVEL + 1] = {0};
    uint32_t h = 0;
    for (const Node *x = sl.head.next[0]; x; x = x->next[0]) {
        level_hist[x->level]++;
        h = (h * 31u) ^ (uint32_t)x->key ^ ((uint32_t)x->value << 7);
    }
    printf("size=%d ref=%d levels=%d inserted=%d updated=%d deleted=%d found=%d mismatches=%d\n", sl.size, ref.size,
           sl.level, inserted, updated, deleted, found, mismatches);
    printf("rank_bad=%d range_bad=%d range_total=%ld steps=%ld hash=%08x\n", rank_bad, range_bad, rs_total, sl.steps,
           (unsigned)h);
    printf("level histogram:");
    for (int i = 1; i <= sl.level; i++)
        printf(" %d", level_hist[i]);
    printf("\n");
    const Node *med = sl_by_rank(&sl, sl.size / 2);
    printf("median key=%d value=%d\n", med ? med->key : -1, med ? med->value : -1);
    sl_free(&sl);
    return 0;
}
