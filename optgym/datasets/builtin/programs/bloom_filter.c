/* optgym-builtin: Bloom filters and a counting Bloom filter over generated string keys using double hashing from two independent hash functions, measuring false-positive rates against an exact open-addressing set for several sizes and hash counts. Style: bit-twiddling, string-processing, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS 3000
#define NPROBES 3000
#define KEYLEN 16

typedef struct {
    uint64_t *bits;
    uint32_t nbits;
    int k;
} Bloom;

typedef struct {
    uint8_t *counters; /* 4-bit counters packed two per byte */
    uint32_t n;
    int k;
    uint32_t saturated;
} CountingBloom;

typedef struct {
    char (*keys)[KEYLEN];
    uint8_t *used;
    uint32_t cap;
} ExactSet;

static uint32_t g_seed = 0xA5A5A5A5u;

static uint32_t rnd(void)
{
    g_seed ^= g_seed << 13;
    g_seed ^= g_seed >> 17;
    g_seed ^= g_seed << 5;
    return g_seed;
}

static void make_key(char *out, uint32_t i, int family)
{
    static const char *prefixes[] = {"user:", "item-", "session/", "k"};
    snprintf(out, KEYLEN, "%s%u", prefixes[family & 3], i);
}

static uint32_t hash_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static uint32_t hash_mix(const char *s)
{
    uint32_t h = 0x9747b28cu;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x5bd1e995u;
        h ^= h >> 15;
    }
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h | 1u; /* odd step so probes cycle through all positions */
}

static uint32_t probe(uint32_t h1, uint32_t h2, int i, uint32_t m)
{
    return (h1 + (uint32_t)i * h2) % m;
}

static void bloom_init(Bloom *b, uint32_t nbits, int k)
{
    b->nbits = nbits;
    b->k = k;
    b->bits = calloc((nbits + 63) / 64, sizeof(uint64_t));
}

static void bloom_add(Bloom *b, const char *key)
{
    uint32_t h1 = hash_fnv1a(key), h2 = hash_mix(key);
    for (int i = 0; i < b->k; i++) {
        uint32_t p = probe(h1, h2, i, b->nbits);
        b->bits[p >> 6] |= 1ull << (p & 63);
    }
}

static int bloom_query(const Bloom *b, const char *key)
{
    uint32_t h1 = hash_fnv1a(key), h2 = hash_mix(key);
    for (int i = 0; i < b->k; i++) {
        uint32_t p = probe(h1, h2, i, b->nbits);
        if (!((b->bits[p >> 6] >> (p & 63)) & 1u))
            return 0;
    }
    return 1;
}

static uint32_t bloom_popcount(const Bloom *b)
{
    uint32_t c = 0;
    for (uint32_t w = 0; w < (b->nbits + 63) / 64; w++) {
        uint64_t x = b->bits[w];
        x = x - ((x >> 1) & 0x5555555555555555ull);
        x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
        x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
        c += (uint32_t)((x * 0x0101010101010101ull) >> 56);
    }
    return c;
}

static int cb_get(const CountingBloom *c, uint32_t i) { return (c->counters[i >> 1] >> ((i & 1) * 4)) & 0xF; }

static void cb_set(CountingBloom *c, uint32_t i, int v)
{
    uint8_t shift = (uint8_t)((i & 1) * 4);
    c->counters[i >> 1] = (uint8_t)((c->counters[i >> 1] & ~(0xF << shift)) | (v << shift));
}

static void cb_update(CountingBloom *c, const char *key, int delta)
{
    uint32_t h1 = hash_fnv1a(key), h2 = hash_mix(key);
    for (int i = 0; i < c->k; i++) {
        uint32_t p = probe(h1, h2, i, c->n);
        int v = cb_get(c, p);
        if (v == 15) {
            c->saturated++; /* sticky: never decrement a saturated counter */
            continue;
        }
        v += delta;
        if (v < 0)
            v = 0;
        cb_set(c, p, v);
    }
}

static int cb_query(const CountingBloom *c, const char *key)
{
    uint32_t h1 = hash_fnv1a(key), h2 = hash_mix(key);
    for (int i = 0; i < c->k; i++)
        if (cb_get(c, probe(h1, h2, i, c->n)) == 0)
            return 0;
    return 1;
}

static void set_init(ExactSet *s, uint32_t cap)
{
    s->cap = cap;
    s->keys = calloc(cap, KEYLEN);
    s->used = calloc(cap, 1);
}

static int set_find_slot(const ExactSet *s, const char *key)
{
    uint32_t i = hash_fnv1a(key) % s->cap;
    while (s->used[i] && strcmp(s->keys[i], key) != 0)
        i = (i + 1) % s->cap;
    return (int)i;
}

static void set_add(ExactSet *s, const char *key)
{
    int i = set_find_slot(s, key);
    s->used[i] = 1;
    memcpy(s->keys[i], key, KEYLEN);
}

static int set_has(const ExactSet *s, const char *key) { return s->used[set_find_slot(s, key)]; }

static void set_free(ExactSet *s)
{
    free(s->keys);
    free(s->used);
}

int main(void)
{
    static char keys[NKEYS][KEYLEN];
    ExactSet exact;
    set_init(&exact, NKEYS * 3);
    for (int i = 0; i < NKEYS; i++) {
        /* Disjoint number ranges make the keys distinct. */
        uint32_t num = (uint32_t)i * 61u + rnd() % 61u;
        make_key(keys[i], num, (int)(rnd() % 4u));
        set_add(&exact, keys[i]);
    }
    static const uint32_t sizes[] = {8192, 24000, 48000};
    static const int ks[] = {1, 3, 6};
    for (size_t si = 0; si < 3; si++) {
        for (size_t ki = 0; ki < 3; ki++) {
            Bloom b;
            bloom_init(&b, sizes[si], ks[ki]);
            for (int i = 0; i < NKEYS; i++)
                bloom_add(&b, keys[i]);
            int false_neg = 0;
            for (int i = 0; i < NKEYS; i++)
                false_neg += !bloom_query(&b, keys[i]);
            int fp = 0, negatives = 0;
            uint32_t saved = g_seed;
            g_seed = 777u; /* the same probe stream for every configuration */
            for (int q = 0; q < NPROBES; q++) {
                char probe_key[KEYLEN];
                uint32_t num = rnd() % 400000u;
                make_key(probe_key, num, (int)(rnd() % 4u));
                if (set_has(&exact, probe_key))
                    continue;
                negatives++;
                fp += bloom_query(&b, probe_key);
            }
            g_seed = saved;
            uint32_t ones = bloom_popcount(&b);
            printf("m=%5u k=%d fill=%3u/1000 fn=%d fp=%d/%d (%u per mille)\n", sizes[si], ks[ki],
                   ones * 1000u / sizes[si], false_neg, fp, negatives, (unsigned)(fp * 1000 / (negatives ? negatives : 1)));
            free(b.bits);
        }
    }

    CountingBloom cb = {calloc(12000, 1), 24000, 4, 0};
    for (int i = 0; i < NKEYS; i++)
        cb_update(&cb, keys[i], +1);
    int present_before = 0;
    for (int i = 0; i < NKEYS; i++)
        present_before += cb_query(&cb, keys[i]);
    /* Remove every other distinct key. */
    int removed = 0;
    for (int i = 0; i < NKEYS; i += 2) {
        int slot = set_find_slot(&exact, keys[i]);
        if (!exact.used[slot])
            continue;
        exact.used[slot] = 2; /* tombstone marks removal; still probed past */
        cb_update(&cb, keys[i], -1);
        removed++;
    }
    int still_in = 0, kept_ok = 0;
    for (int i = 0; i < NKEYS; i++) {
        int slot = set_find_slot(&exact, keys[i]);
        if (exact.used[slot] == 2)
            still_in += cb_query(&cb, keys[i]);
        else
            kept_ok += cb_query(&cb, keys[i]);
    }
    uint32_t ch = 0;
    for (uint32_t i = 0; i < cb.n; i++)
        ch = ch * 17u + (uint32_t)cb_get(&cb, i);
    printf("counting: present=%d removed=%d removed_still_reported=%d kept_reported=%d saturated=%u hash=%08x\n",
           present_before, removed, still_in, kept_ok, cb.saturated, (unsigned)ch);
    free(cb.counters);
    set_free(&exact);
    return 0;
}
