/* optgym-builtin: LRU cache built from a chained hash table and an intrusive doubly linked recency list, compared with FIFO, CLOCK and a naive array LRU over skewed, looping and scanning access traces. Style: pointer-heavy, struct-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NTRACE 6000

typedef struct Entry {
    uint32_t key;
    uint32_t value;
    struct Entry *hnext;             /* hash chain */
    struct Entry *prev, *next;       /* recency list, most recent at head */
} Entry;

typedef struct {
    Entry **buckets;
    uint32_t nbuckets;
    Entry *pool;
    Entry *free_list;
    Entry head; /* sentinel */
    int capacity, size;
    long hits, misses, evictions;
} Lru;

static uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static void list_unlink(Entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void list_push_front(Lru *c, Entry *e)
{
    e->next = c->head.next;
    e->prev = &c->head;
    c->head.next->prev = e;
    c->head.next = e;
}

static void lru_init(Lru *c, int capacity)
{
    memset(c, 0, sizeof *c);
    c->capacity = capacity;
    c->nbuckets = 1;
    while (c->nbuckets < (uint32_t)capacity * 2)
        c->nbuckets <<= 1;
    c->buckets = calloc(c->nbuckets, sizeof(Entry *));
    c->pool = calloc((size_t)capacity, sizeof(Entry));
    for (int i = 0; i < capacity; i++) {
        c->pool[i].hnext = c->free_list;
        c->free_list = &c->pool[i];
    }
    c->head.next = c->head.prev = &c->head;
}

static void lru_destroy(Lru *c)
{
    free(c->buckets);
    free(c->pool);
}

static Entry **bucket_slot(Lru *c, uint32_t key, Entry ***prevlink)
{
    Entry **link = &c->buckets[hash32(key) & (c->nbuckets - 1)];
    *prevlink = link;
    while (*link && (*link)->key != key)
        link = &(*link)->hnext;
    return link;
}

static void evict_one(Lru *c)
{
    Entry *victim = c->head.prev;
    Entry **first;
    Entry **link = bucket_slot(c, victim->key, &first);
    *link = victim->hnext;
    list_unlink(victim);
    victim->hnext = c->free_list;
    c->free_list = victim;
    c->size--;
    c->evictions++;
}

/* Returns 1 on hit. On a miss the value is "loaded" as a function of the key. */
static int lru_access(Lru *c, uint32_t key, uint32_t *value)
{
    Entry **first;
    Entry **link = bucket_slot(c, key, &first);
    if (*link) {
        Entry *e = *link;
        list_unlink(e);
        list_push_front(c, e);
        *value = e->value;
        c->hits++;
        return 1;
    }
    c->misses++;
    if (c->size == c->capacity)
        evict_one(c);
    Entry *e = c->free_list;
    c->free_list = e->hnext;
    e->key = key;
    e->value = hash32(key ^ 0xABCDu);
    bucket_slot(c, key, &first);
    e->hnext = *first;
    *first = e;
    list_push_front(c, e);
    c->size++;
    *value = e->value;
    return 0;
}

/* Naive LRU over an array ordered by recency: O(capacity) per access. */
static long naive_lru_hits(const uint32_t *trace, int n, int cap)
{
    uint32_t *slots = malloc(sizeof(uint32_t) * (size_t)cap);
    int used = 0;
    long hits = 0;
    for (int i = 0; i < n; i++) {
        int pos = -1;
        for (int j = 0; j < used; j++)
            if (slots[j] == trace[i]) {
                pos = j;
                break;
            }
        if (pos >= 0)
            hits++;
        else
            pos = used < cap ? used++ : cap - 1;
        memmove(slots + 1, slots, sizeof(uint32_t) * (size_t)pos);
        slots[0] = trace[i];
    }
    free(slots);
    return hits;
}

static long fifo_hits(const uint32_t *trace, int n, int cap)
{
    uint32_t *ring = calloc((size_t)cap, sizeof(uint32_t));
    int used = 0, next = 0;
    long hits = 0;
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int j = 0; j < used; j++)
            if (ring[j] == trace[i]) {
                found = 1;
                break;
            }
        if (found) {
            hits++;
            continue;
        }
        if (used < cap)
            ring[used++] = trace[i];
        else {
            ring[next] = trace[i];
            next = (next + 1) % cap;
        }
    }
    free(ring);
    return hits;
}

static long clock_hits(const uint32_t *trace, int n, int cap)
{
    uint32_t *keys = calloc((size_t)cap, sizeof(uint32_t));
    uint8_t *ref = calloc((size_t)cap, 1);
    int used = 0, hand = 0;
    long hits = 0;
    for (int i = 0; i < n; i++) {
        int j;
        for (j = 0; j < used; j++)
            if (keys[j] == trace[i])
                break;
        if (j < used) {
            ref[j] = 1;
            hits++;
            continue;
        }
        if (used < cap) {
            keys[used] = trace[i];
            ref[used++] = 1;
            continue;
        }
        while (ref[hand]) {
            ref[hand] = 0;
            hand = (hand + 1) % cap;
        }
        keys[hand] = trace[i];
        ref[hand] = 1;
        hand = (hand + 1) % cap;
    }
    free(keys);
    free(ref);
    return hits;
}

static uint32_t rng = 600613u;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) % n;
}

static void make_trace(uint32_t *t, int n, int kind)
{
    for (int i = 0; i < n; i++) {
        switch (kind) {
        case 0: { /* skewed: squaring a uniform variate favours small keys */
            uint32_t u = rnd(1000);
            t[i] = u * u / 1000u;
            break;
        }
        case 1: /* loop slightly larger than the caches */
            t[i] = (uint32_t)(i % 90);
            break;
        case 2: /* hot set with periodic scans */
            t[i] = (i / 500) % 4 == 3 ? 10000u + (uint32_t)i : rnd(60);
            break;
        default: /* phases with shifting working sets */
            t[i] = (uint32_t)(i / 750) * 40u + rnd(80);
            break;
        }
    }
}

int main(void)
{
    static uint32_t trace[NTRACE];
    static const char *names[] = {"skewed", "loop", "scan", "phases"};
    static const int caps[] = {16, 48, 96};
    uint32_t checksum = 0;
    for (int kind = 0; kind < 4; kind++) {
        make_trace(trace, NTRACE, kind);
        for (int ci = 0; ci < 3; ci++) {
            int cap = caps[ci];
            Lru c;
            lru_init(&c, cap);
            for (int i = 0; i < NTRACE; i++) {
                uint32_t v;
                lru_access(&c, trace[i], &v);
                checksum = (checksum ^ v) * 16777619u;
            }
            long naive = naive_lru_hits(trace, NTRACE, cap);
            long fifo = fifo_hits(trace, NTRACE, cap);
            long clk = clock_hits(trace, NTRACE, cap);
            printf("%-7s cap=%3d lru=%ld naive=%ld fifo=%ld clock=%ld evictions=%ld agree=%d\n", names[kind], cap,
                   c.hits, naive, fifo, clk, c.evictions, c.hits == naive);
            lru_destroy(&c);
        }
    }
    printf("checksum=%08x\n", (unsigned)checksum);
    return 0;
}
