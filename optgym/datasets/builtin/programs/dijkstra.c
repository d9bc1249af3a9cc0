/* optgym-builtin: Dijkstra shortest paths with an indexed binary min-heap supporting decrease-key over a generated sparse weighted graph in CSR form, checked against Bellman-Ford. Style: struct-heavy, pointer-heavy, loop-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INF INT32_MAX

typedef struct {
    int nv, ne;
    int *offset; /* nv+1 entries */
    int *target;
    int *weight;
} Graph;

typedef struct {
    int *heap; /* vertex ids */
    int *pos;  /* position of each vertex in heap, -1 if absent */
    int32_t *key;
    int size;
} IndexHeap;

static uint32_t seed = 4242u;
static uint32_t rnd(void)
{
    seed = seed * 1664525u + 1013904223u;
    return seed >> 9;
}

static Graph make_graph(int nv, int avg_degree)
{
    Graph g;
    g.nv = nv;
    g.offset = calloc((size_t)nv + 1, sizeof(int));
    int *deg = malloc(sizeof(int) * (size_t)nv);
    int total = 0;
    for (int v = 0; v < nv; ++v) {
        deg[v] = 1 + (int)(rnd() % (uint32_t)(2 * avg_degree));
        total += deg[v];
    }
    g.ne = total;
    g.target = malloc(sizeof(int) * (size_t)total);
    g.weight = malloc(sizeof(int) * (size_t)total);
    int e = 0;
    for (int v = 0; v < nv; ++v) {
        g.offset[v] = e;
        for (int k = 0; k < deg[v]; ++k) {
            /* mostly local edges plus a few long jumps, like a road network */
            int t = (rnd() % 8u == 0) ? (int)(rnd() % (uint32_t)nv) : (v + 1 + (int)(rnd() % 20u)) % nv;
            g.target[e] = t;
            g.weight[e] = 1 + (int)(rnd() % 100u);
            e++;
        }
    }
    g.offset[nv] = e;
    free(deg);
    return g;
}

static void heap_swap(IndexHeap *h, int i, int j)
{
    int a = h->heap[i], b = h->heap[j];
    h->heap[i] = b;
    h->heap[j] = a;
    h->pos[b] = i;
    h->pos[a] = j;
}

static void heap_up(IndexHeap *h, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (h->key[h->heap[p]] <= h->key[h->heap[i]]) break;
        heap_swap(h, i, p);
        i = p;
    }
}

static void heap_down(IndexHeap *h, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->size && h->key[h->heap[l]] < h->key[h->heap[m]]) m = l;
        if (r < h->size && h->key[h->heap[r]] < h->key[h->heap[m]]) m = r;
        if (m == i) return;
        heap_swap(h, i, m);
        i = m;
    }
}

static void heap_push_or_decrease(IndexHeap *h, int v, int32_t k)
{
    if (h->pos[v] < 0) {
        h->heap[h->size] = v;
        h->pos[v] = h->size++;
    }
    h->key[v] = k;
    heap_up(h, h->pos[v]);
}

static int heap_pop(IndexHeap *h)
{
    int top = h->heap[0];
    heap_swap(h, 0, --h->size);
    h->pos[top] = -1;
    heap_down(h, 0);
    return top;
}

static long dijkstra(const Graph *g, int src, int32_t *dist, int *parent)
{
    IndexHeap h;
    h.heap = malloc(sizeof(int) * (size_t)g->nv);
    h.pos = malloc(sizeof(int) * (size_t)g->nv);
    h.key = dist;
    h.size = 0;
    for (int v = 0; v < g->nv; ++v) {
        dist[v] = INF;
        parent[v] = -1;
        h.pos[v] = -1;
    }
    long relaxations = 0;
    heap_push_or_decrease(&h, src, 0);
    while (h.size > 0) {
        int u = heap_pop(&h);
        for (int e = g->offset[u]; e < g->offset[u + 1]; ++e) {
            int v = g->target[e];
            int32_t nd = dist[u] + g->weight[e];
            if (nd < dist[v]) {
                parent[v] = u;
                heap_push_or_decrease(&h, v, nd);
                relaxations++;
            }
        }
    }
    free(h.heap);
    free(h.pos);
    return relaxations;
}

static void bellman_ford(const Graph *g, int src, int32_t *dist)
{
    for (int v = 0; v < g->nv; ++v) dist[v] = INF;
    dist[src] = 0;
    for (int round = 0; round < g->nv; ++round) {
        int changed = 0;
        for (int u = 0; u < g->nv; ++u) {
            if (dist[u] == INF) continue;
            for (int e = g->offset[u]; e < g->offset[u + 1]; ++e)
                if (dist[u] + g->weight[e] < dist[g->target[e]]) {
                    dist[g->target[e]] = dist[u] + g->weight[e];
                    changed = 1;
                }
        }
        if (!changed) break;
    }
}

static int path_length(const int *parent, int v)
{
    int n = 0;
    while (parent[v] >= 0) {
        v = parent[v];
        n++;
    }
    return n;
}

int main(void)
{
    enum { NV = 1500 };
    Graph g = make_graph(NV, 3);
    int32_t *dist = malloc(sizeof(int32_t) * NV), *ref = malloc(sizeof(int32_t) * NV);
    int *parent = malloc(sizeof(int) * NV);
    printf("graph: %d vertices, %d edges\n", g.nv, g.ne);
    uint32_t acc = 0;
    static const int sources[] = {0, 123, 777, 1499};
    for (int s = 0; s < 4; ++s) {
        int src = sources[s];
        long relax = dijkstra(&g, src, dist, parent);
        bellman_ford(&g, src, ref);
        int agree = memcmp(dist, ref, sizeof(int32_t) * NV) == 0;
        int reach = 0, far = src, longest_hops = 0;
        int64_t sum = 0;
        for (int v = 0; v < NV; ++v) {
            if (dist[v] == INF) continue;
            reach++;
            sum += dist[v];
            if (dist[v] > dist[far]) far = v;
            int hops = path_length(parent, v);
            if (hops > longest_hops) longest_hops = hops;
            acc = acc * 16777619u ^ (uint32_t)dist[v];
        }
        printf("src %4d: reach=%d sum=%lld farthest=%d(%d) hops=%d relax=%ld agree=%d\n", src, reach, (long long)sum,
               far, dist[far], longest_hops, relax, agree);
    }
    printf("acc=%08x\n", (unsigned)acc);
    free(dist);
    free(ref);
    free(parent);
    free(g.offset);
    free(g.target);
    free(g.weight);
    return 0;
}
