/* optgym-builtin: An open-addressing hash map from string keys to counters with linear probing, tombstone deletion, load-factor driven resizing and a word-frequency workload with interleaved deletes. Style: struct-heavy, string-processing, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { EMPTY = 0, FULL = 1, TOMB = 2 } SlotState;

typedef struct {
    char key[24];
    uint32_t hash;
    long value;
    uint8_t state;
} Slot;

typedef struct {
    Slot *slots;
    size_t cap, count, tombs;
    unsigned long probes, resizes;
} Map;

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; ++s) h = (h ^ (uint8_t)*s) * 16777619u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

static void map_init(Map *m, size_t cap)
{
    m->slots = calloc(cap, sizeof(Slot));
    m->cap = cap;
    m->count = m->tombs = 0;
    m->probes = m->resizes = 0;
}

static Slot *find_slot(Map *m, const char *key, uint32_t h, int for_insert)
{
    size_t mask = m->cap - 1, i = h & mask;
    Slot *first_tomb = NULL;
    for (;;) {
        Slot *s = &m->slots[i];
        m->probes++;
        if (s->state == EMPTY) return for_insert && first_tomb ? first_tomb : (for_insert ? s : NULL);
        if (s->state == TOMB) {
            if (!first_tomb) first_tomb = s;
        } else if (s->hash == h && strcmp(s->key, key) == 0) {
            return s;
        }
        i = (i + 1) & mask;
    }
}

static void map_rehash(Map *m, size_t new_cap)
{
    Slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = calloc(new_cap, sizeof(Slot));
    m->cap = new_cap;
    m->tombs = 0;
    m->resizes++;
    for (size_t i = 0; i < old_cap; ++i)
        if (old[i].state == FULL) {
            Slot *s = find_slot(m, old[i].key, old[i].hash, 1);
            *s = old[i];
        }
    free(old);
}

static long *map_upsert(Map *m, const char *key)
{
    if ((m->count + m->tombs + 1) * 4 > m->cap * 3) map_rehash(m, m->count * 2 + 2 > m->cap / 2 ? m->cap * 2 : m->cap);
    uint32_t h = hash_str(key);
    Slot *s = find_slot(m, key, h, 1);
    if (s->state != FULL) {
        if (s->state == TOMB) m->tombs--;
        snprintf(s->key, sizeof s->key, "%s", key);
        s->hash = h;
        s->value = 0;
        s->state = FULL;
        m->count++;
    }
    return &s->value;
}

static long *map_get(Map *m, const char *key)
{
    Slot *s = find_slot(m, key, hash_str(key), 0);
    return s ? &s->value : NULL;
}

static int map_delete(Map *m, const char *key)
{
    Slot *s = find_slot(m, key, hash_str(key), 0);
    if (!s) return 0;
    s->state = TOMB;
    m->count--;
    m->tombs++;
    return 1;
}

static uint32_t rs = 13u;
static uint32_t rnd(void)
{
    rs = rs * 1664525u + 1013904223u;
    return rs >> 8;
}

static void make_word(char *w, uint32_t r)
{
    static const char *const syll[] = {"ka", "lo", "mi", "ne", "tor", "ban", "qu", "ex", "zi", "pa", "ru", "sen"};
    int n = 1 + (int)(r % 3u);
    w[0] = '\0';
    r /= 3u;
    for (int i = 0; i < n; ++i) {
        strcat(w, syll[r % 12u]);
        r /= 12u;
    }
}

int main(void)
{
    Map m;
    map_init(&m, 16);
    char w[24];
    long inserted = 0, deleted = 0, lookups_hit = 0;
    for (int i = 0; i < 12000; ++i) {
        uint32_t r = rnd();
        /* Zipf-ish: small words are much more frequent */
        uint32_t pick = (r & 7u) ? r % 200u : r % 6000u;
        make_word(w, pick * 2654435761u >> 7);
        switch (rnd() % 10u) {
        case 0:
            deleted += map_delete(&m, w);
            break;
        case 1:
        case 2:
            if (map_get(&m, w)) lookups_hit++;
            break;
        default: {
            long *v = map_upsert(&m, w);
            (*v)++;
            inserted++;
        }
        }
    }
    long total = 0, maxv = 0;
    uint32_t acc = 0;
    const char *maxk = "";
    for (size_t i = 0; i < m.cap; ++i) {
        Slot *s = &m.slots[i];
        if (s->state != FULL) continue;
        total += s->value;
        if (s->value > maxv || (s->value == maxv && strcmp(s->key, maxk) < 0)) {
            maxv = s->value;
            maxk = s->key;
        }
        acc += hash_str(s->key) * (uint32_t)s->value; /* order independent */
    }
    printf("inserted=%ld deleted=%ld hits=%ld live=%zu tombs=%zu cap=%zu resizes=%lu\n", inserted, deleted,
           lookups_hit, m.count, m.tombs, m.cap, m.resizes);
    printf("total=%ld top=%s:%ld acc=%08x probes=%lu\n", total, maxk, maxv, (unsigned)acc, m.probes);
    static const char *const probe_words[] = {"ka", "lomi", "tortorban", "zzz", "exex", "qu"};
    for (int i = 0; i < 6; ++i) {
        long *v = map_get(&m, probe_words[i]);
        printf("%s=%ld%c", probe_words[i], v ? *v : -1L, i == 5 ? '\n' : ' ');
    }
    free(m.slots);
    return 0;
}
