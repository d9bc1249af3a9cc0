/* optgym-builtin: Kruskal's minimum spanning forest with a union-find using path halving and union by rank over a generated weighted graph, cross-checked with Prim's algorithm and connectivity queries. Style: struct-heavy, loop-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int u, v;
    uint32_t w;
} Edge;

typedef struct {
    int *parent;
    uint8_t *rank;
    int sets;
    long finds;
} DSU;

static void dsu_init(DSU *d, int n)
{
    d->parent = malloc(sizeof(int) * (size_t)n);
    d->rank = calloc((size_t)n, 1);
    for (int i = 0; i < n; ++i) d->parent[i] = i;
    d->sets = n;
    d->finds = 0;
}

static void dsu_free(DSU *d)
{
    free(d->parent);
    free(d->rank);
}

static int dsu_find(DSU *d, int x)
{
    d->finds++;
    while (d->parent[x] != x) {
        d->parent[x] = d->parent[d->parent[x]];
        x = d->parent[x];
    }
    return x;
}

static int dsu_union(DSU *d, int a, int b)
{
    a = dsu_find(d, a);
    b = dsu_find(d, b);
    if (a == b) return 0;
    if (d->rank[a] < d->rank[b]) {
        int t = a;
        a = b;
        b = t;
    }
    d->parent[b] = a;
    if (d->rank[a] == d->rank[b]) d->rank[a]++;
    d->sets--;
    return 1;
}

static int edge_cmp(const void *x, const void *y)
{
    const Edge *a = x, *b = y;
    if (a->w != b->w) return a->w < b->w ? -1 : 1;
    if (a->u != b->u) return a->u - b->u;
    return a->v - b->v;
}

static uint32_t seed = 1234567u;
static uint32_t rnd(void)
{
    seed = seed * 69069u + 1u;
    return seed >> 7;
}

static int gen_edges(Edge *e, int nv, int ne)
{
    for (int i = 0; i < ne; ++i) {
        int u = (int)(rnd() % (uint32_t)nv);
        int v = (i % 3 == 0) ? (u + 1) % nv : (int)(rnd() % (uint32_t)nv);
        if (u == v) v = (v + 7) % nv;
        e[i].u = u < v ? u : v;
        e[i].v = u < v ? v : u;
        e[i].w = 1 + rnd() % 1000u;
    }
    return ne;
}

static uint64_t kruskal(Edge *e, int ne, int nv, int *components, int *used, uint32_t *digest)
{
    qsort(e, (size_t)ne, sizeof(Edge), edge_cmp);
    DSU d;
    dsu_init(&d, nv);
    uint64_t total = 0;
    *used = 0;
    *digest = 0;
    for (int i = 0; i < ne && d.sets > 1; ++i)
        if (dsu_union(&d, e[i].u, e[i].v)) {
            total += e[i].w;
            (*used)++;
            *digest = *digest * 31u + (uint32_t)(e[i].u * 7 + e[i].v);
        }
    *components = d.sets;
    dsu_free(&d);
    return total;
}

/* O(V^2) Prim over an adjacency matrix of minimum parallel-edge weights */
static uint64_t prim(const Edge *e, int ne, int nv)
{
    uint32_t *adj = malloc(sizeof(uint32_t) * (size_t)nv * (size_t)nv);
    for (int i = 0; i < nv * nv; ++i) adj[i] = UINT32_MAX;
    for (int i = 0; i < ne; ++i) {
        uint32_t *a = &adj[e[i].u * nv + e[i].v], *b = &adj[e[i].v * nv + e[i].u];
        if (e[i].w < *a) *a = *b = e[i].w;
    }
    uint32_t *best = malloc(sizeof(uint32_t) * (size_t)nv);
    uint8_t *in = calloc((size_t)nv, 1);
    uint64_t total = 0;
    for (int start = 0; start < nv; ++start) {
        if (in[start]) continue;
        for (int v = 0; v < nv; ++v) best[v] = UINT32_MAX;
        best[start] = 0;
        for (;;) {
            int pick = -1;
            for (int v = 0; v < nv; ++v)
                if (!in[v] && best[v] != UINT32_MAX && (pick < 0 || best[v] < best[pick])) pick = v;
            if (pick < 0) break;
            in[pick] = 1;
            total += best[pick];
            for (int v = 0; v < nv; ++v)
                if (!in[v] && adj[pick * nv + v] < best[v]) best[v] = adj[pick * nv + v];
        }
    }
    free(adj);
    free(best);
    free(in);
    return total;
}

int main(void)
{
    static const int sizes[3][2] = {{300, 900}, {400, 500}, {250, 2000}};
    uint32_t acc = 0;
    for (int t = 0; t < 3; ++t) {
        int nv = sizes[t][0], ne = sizes[t][1];
        Edge *e = malloc(sizeof(Edge) * (size_t)ne);
        gen_edges(e, nv, ne);
        int comps, used;
        uint32_t dg;
        uint64_t k = kruskal(e, ne, nv, &comps, &used, &dg);
        uint64_t p = prim(e, ne, nv);
        /* connectivity queries on the full graph */
        DSU d;
        dsu_init(&d, nv);
        for (int i = 0; i < ne; ++i) dsu_union(&d, e[i].u, e[i].v);
        int connected = 0;
        for (int q = 0; q < 2000; ++q) {
            int a = (int)(rnd() % (uint32_t)nv);
            int b = (int)(rnd() % (uint32_t)nv);
            connected += dsu_find(&d, a) == dsu_find(&d, b);
        }
        printf("graph %d: V=%d E=%d mst=%llu prim=%llu edges=%d components=%d connected_q=%d finds=%ld digest=%08x\n",
               t, nv, ne, (unsigned long long)k, (unsigned long long)p, used, comps, connected, d.finds, (unsigned)dg);
        acc = acc * 101u + (uint32_t)k + dg;
        dsu_free(&d);
        free(e);
    }
    printf("acc=%08x\n", (unsigned)acc);
    return 0;
}
