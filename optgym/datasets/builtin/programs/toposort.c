/* optgym-builtin: Topological sorting of generated dependency DAGs with Kahn's algorithm (smallest-id-first via a heap) and recursive DFS post-order, plus cycle detection, longest-path scheduling and verification. Style: recursive, pointer-heavy, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct AdjNode {
    int to;
    struct AdjNode *next;
} AdjNode;

typedef struct {
    int n;
    AdjNode **head;
    int *indeg;
    int *cost;
    AdjNode *pool;
    int used;
} Dag;

static uint32_t s = 99u;
static uint32_t rnd(void)
{
    s = s * 1103515245u + 12345u;
    return s >> 16;
}

static void dag_init(Dag *g, int n, int max_edges)
{
    g->n = n;
    g->head = calloc((size_t)n, sizeof(AdjNode *));
    g->indeg = calloc((size_t)n, sizeof(int));
    g->cost = malloc(sizeof(int) * (size_t)n);
    g->pool = malloc(sizeof(AdjNode) * (size_t)max_edges);
    g->used = 0;
    for (int i = 0; i < n; ++i) g->cost[i] = 1 + (int)(rnd() % 9u);
}

static void add_edge(Dag *g, int a, int b)
{
    AdjNode *e = &g->pool[g->used++];
    e->to = b;
    e->next = g->head[a];
    g->head[a] = e;
    g->indeg[b]++;
}

static void dag_free(Dag *g)
{
    free(g->head);
    free(g->indeg);
    free(g->cost);
    free(g->pool);
}

/* edges go from a lower to a higher rank of a hidden permutation, so the graph is acyclic */
static void build(Dag *g, int n, int edges, int add_cycle)
{
    dag_init(g, n, edges + 1);
    int *rank = malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; ++i) rank[i] = i;
    for (int i = n - 1; i > 0; --i) {
        int j = (int)(rnd() % (uint32_t)(i + 1));
        int t = rank[i];
        rank[i] = rank[j];
        rank[j] = t;
    }
    int last_a = 0, last_b = 0;
    for (int e = 0; e < edges; ++e) {
        int a = (int)(rnd() % (uint32_t)n);
        int span = 1 + (int)(rnd() % 12u);
        int b = a + span < n ? a + span : n - 1;
        if (a == b) continue;
        add_edge(g, rank[a], rank[b]);
        last_a = a;
        last_b = b;
    }
    /* a back edge closes a two-node cycle */
    if (add_cycle && last_a != last_b) add_edge(g, rank[last_b], rank[last_a]);
    free(rank);
}

typedef struct {
    int *heap;
    int size;
} MinHeap;

static void mh_push(MinHeap *h, int v)
{
    int i = h->size++;
    h->heap[i] = v;
    while (i && h->heap[(i - 1) / 2] > h->heap[i]) {
        int p = (i - 1) / 2, t = h->heap[p];
        h->heap[p] = h->heap[i];
        h->heap[i] = t;
        i = p;
    }
}

static int mh_pop(MinHeap *h)
{
    int top = h->heap[0], i = 0;
    h->heap[0] = h->heap[--h->size];
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->size && h->heap[l] < h->heap[m]) m = l;
        if (r < h->size && h->heap[r] < h->heap[m]) m = r;
        if (m == i) return top;
        int t = h->heap[m];
        h->heap[m] = h->heap[i];
        h->heap[i] = t;
        i = m;
    }
}

static int kahn(const Dag *g, int *order)
{
    int *deg = malloc(sizeof(int) * (size_t)g->n);
    memcpy(deg, g->indeg, sizeof(int) * (size_t)g->n);
    MinHeap h = {malloc(sizeof(int) * (size_t)g->n), 0};
    for (int v = 0; v < g->n; ++v)
        if (!deg[v]) mh_push(&h, v);
    int k = 0;
    while (h.size) {
        int v = mh_pop(&h);
        order[k++] = v;
        for (AdjNode *e = g->head[v]; e; e = e->next)
            if (--deg[e->to] == 0) mh_push(&h, e->to);
    }
    free(deg);
    free(h.heap);
    return k; /* < n means a cycle */
}

enum { WHITE, GREY, BLACK };

static int dfs(const Dag *g, int v, uint8_t *color, int *out, int *k)
{
    color[v] = GREY;
    for (AdjNode *e = g->head[v]; e; e = e->next) {
        if (color[e->to] == GREY) return 0;
        if (color[e->to] == WHITE && !dfs(g, e->to, color, out, k)) return 0;
    }
    color[v] = BLACK;
    out[(*k)++] = v;
    return 1;
}

static int dfs_topo(const Dag *g, int *order)
{
    uint8_t *color = calloc((size_t)g->n, 1);
    int *post = malloc(sizeof(int) * (size_t)g->n);
    int k = 0, ok = 1;
    for (int v = 0; v < g->n && ok; ++v)
        if (color[v] == WHITE) ok = dfs(g, v, color, post, &k);
    for (int i = 0; i < k; ++i) order[i] = post[k - 1 - i];
    free(color);
    free(post);
    return ok ? k : -1;
}

static int valid_order(const Dag *g, const int *order)
{
    int *pos = malloc(sizeof(int) * (size_t)g->n);
    for (int i = 0; i < g->n; ++i) pos[order[i]] = i;
    int ok = 1;
    for (int v = 0; v < g->n; ++v)
        for (AdjNode *e = g->head[v]; e; e = e->next)
            if (pos[v] >= pos[e->to]) ok = 0;
    free(pos);
    return ok;
}

static int critical_path(const Dag *g, const int *order)
{
    int *finish = calloc((size_t)g->n, sizeof(int));
    int best = 0;
    for (int i = 0; i < g->n; ++i) {
        int v = order[i];
        finish[v] += g->cost[v];
        if (finish[v] > best) best = finish[v];
        for (AdjNode *e = g->head[v]; e; e = e->next)
            if (finish[v] > finish[e->to]) finish[e->to] = finish[v];
    }
    free(finish);
    return best;
}

int main(void)
{
    static const int cfg[4][3] = {{200, 500, 0}, {800, 2400, 0}, {300, 300, 1}, {1000, 1500, 0}};
    uint32_t acc = 0;
    for (int t = 0; t < 4; ++t) {
        Dag g;
        build(&g, cfg[t][0], cfg[t][1], cfg[t][2]);
        int *o1 = malloc(sizeof(int) * (size_t)g.n), *o2 = malloc(sizeof(int) * (size_t)g.n);
        int k1 = kahn(&g, o1);
        int k2 = dfs_topo(&g, o2);
        if (k1 < g.n || k2 < 0) {
            printf("dag %d: n=%d edges=%d cycle detected (kahn placed %d, dfs=%d)\n", t, g.n, g.used, k1, k2);
        } else {
            printf("dag %d: n=%d edges=%d valid=%d/%d first=%d last=%d critical=%d/%d\n", t, g.n, g.used,
                   valid_order(&g, o1), valid_order(&g, o2), o1[0], o1[g.n - 1], critical_path(&g, o1),
                   critical_path(&g, o2));
            for (int i = 0; i < g.n; ++i) acc = acc * 31u + (uint32_t)o1[i];
        }
        free(o1);
        free(o2);
        dag_free(&g);
    }
    printf("acc=%08x\n", (unsigned)acc);
    return 0;
}
