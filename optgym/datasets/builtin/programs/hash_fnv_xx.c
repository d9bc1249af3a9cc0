/* optgym-builtin: FNV-1a (32 and 64 bit) and an xxhash-style four-lane 32-bit hash over generated records, used to dedupe a stream and build a hash histogram. Style: bit-twiddling, struct-heavy, loop-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define P1 0x9E3779B1u
#define P2 0x85EBCA77u
#define P3 0xC2B2AE3Du
#define P4 0x27D4EB2Fu
#define P5 0x165667B1u

typedef struct {
    uint32_t id;
    uint16_t kind;
    uint16_t flags;
    char name[20];
} Rec;

static uint32_t fnv1a32(const uint8_t *p, size_t n)
{
    uint32_t h = 0x811C9DC5u;
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x01000193u;
    }
    return h;
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

static inline uint32_t rol(uint32_t x, int r) { return (x << (r & 31)) | (x >> ((32 - r) & 31)); }

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint32_t lane_round(uint32_t acc, uint32_t input)
{
    acc += input * P2;
    acc = rol(acc, 13);
    return acc * P1;
}

static uint32_t xxlike32(const uint8_t *p, size_t len, uint32_t seed)
{
    const uint8_t *end = p + len;
    uint32_t h;
    if (len >= 16) {
        uint32_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
        const uint8_t *limit = end - 16;
        do {
            v1 = lane_round(v1, rd32(p));
            v2 = lane_round(v2, rd32(p + 4));
            v3 = lane_round(v3, rd32(p + 8));
            v4 = lane_round(v4, rd32(p + 12));
            p += 16;
        } while (p <= limit);
        h = rol(v1, 1) + rol(v2, 7) + rol(v3, 12) + rol(v4, 18);
    } else {
        h = seed + P5;
    }
    h += (uint32_t)len;
    while (p + 4 <= end) {
        h += rd32(p) * P3;
        h = rol(h, 17) * P4;
        p += 4;
    }
    while (p < end) {
        h += (*p++) * P5;
        h = rol(h, 11) * P1;
    }
    h ^= h >> 15;
    h *= P2;
    h ^= h >> 13;
    h *= P3;
    h ^= h >> 16;
    return h;
}

/* serialize explicitly so struct padding never reaches the hash */
static size_t serialize(const Rec *r, uint8_t *out)
{
    size_t n = 0;
    for (int i = 0; i < 4; ++i) out[n++] = (uint8_t)(r->id >> (8 * i));
    out[n++] = (uint8_t)r->kind;
    out[n++] = (uint8_t)(r->kind >> 8);
    out[n++] = (uint8_t)r->flags;
    out[n++] = (uint8_t)(r->flags >> 8);
    size_t len = strlen(r->name);
    memcpy(out + n, r->name, len);
    return n + len;
}

static uint32_t seed_state = 31337u;

static uint32_t gen(void)
{
    seed_state = seed_state * 1103515245u + 12345u;
    return seed_state >> 11;
}

static void make_record(Rec *r)
{
    r->id = gen() % 3000u;
    r->kind = (uint16_t)(gen() % 5u);
    r->flags = (uint16_t)(gen() & 3u);
    int len = 3 + (int)(r->id % 12u);
    for (int i = 0; i < len; ++i) r->name[i] = (char)('a' + (r->id * 7u + (unsigned)i * 13u) % 26u);
    r->name[len] = '\0';
}

typedef struct {
    uint32_t *slots;
    uint8_t *used;
    size_t cap;
    size_t count;
} Set;

static int set_insert(Set *s, uint32_t h)
{
    size_t i = h & (s->cap - 1);
    while (s->used[i]) {
        if (s->slots[i] == h) return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->used[i] = 1;
    s->slots[i] = h;
    s->count++;
    return 1;
}

int main(void)
{
    const uint8_t *fox = (const uint8_t *)"The quick brown fox jumps over the lazy dog";
    printf("fox: fnv32=%08x fnv64=%016llx xx=%08x\n", (unsigned)fnv1a32(fox, 43),
           (unsigned long long)fnv1a64(fox, 43), (unsigned)xxlike32(fox, 43, 0));
    enum { N = 12000, CAP = 16384 };
    Set s = {calloc(CAP, 4), calloc(CAP, 1), CAP, 0};
    if (!s.slots || !s.used) return 1;
    unsigned hist[16] = {0};
    uint64_t acc64 = 0;
    uint32_t acc32 = 0;
    int dupes = 0;
    uint8_t buf[64];
    for (int i = 0; i < N; ++i) {
        Rec r;
        memset(&r, 0, sizeof r);
        make_record(&r);
        size_t n = serialize(&r, buf);
        uint32_t hx = xxlike32(buf, n, 0x5EEDu);
        uint32_t hf = fnv1a32(buf, n);
        acc64 ^= fnv1a64(buf, n) + (uint64_t)i;
        if (!set_insert(&s, hx ^ (hf & 0xFu))) dupes++;
        hist[hx >> 28]++;
        acc32 += hx ^ rol(hf, i & 31);
    }
    printf("unique=%zu dupes=%d acc32=%08x acc64=%016llx\n", s.count, dupes, (unsigned)acc32,
           (unsigned long long)acc64);
    for (int i = 0; i < 16; ++i) printf("%u%c", hist[i], i == 15 ? '\n' : ' ');
    uint8_t big[1000];
    for (int i = 0; i < 1000; ++i) big[i] = (uint8_t)(i * 31 + 7);
    uint32_t lens = 0;
    for (size_t l = 0; l <= 1000; l += 37) lens = lens * 17u + xxlike32(big, l, (uint32_t)l);
    printf("lengths=%08x\n", (unsigned)lens);
    free(s.slots);
    free(s.used);
    return 0;
}
