/* optgym-builtin: An LZ77-style compressor with a hash-chained sliding window, lazy matching and a byte-aligned token format, plus its decompressor, round-tripping generated text and binary data. Style: pointer-heavy, loop-heavy, bit-twiddling */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 4096
#define MIN_MATCH 3
#define MAX_MATCH 130
#define HASH_BITS 12
#define HASH_SIZE (1 << HASH_BITS)
#define MAX_CHAIN 32

typedef struct {
    int head[HASH_SIZE];
    int *prev;
    unsigned long chain_steps;
} Matcher;

static unsigned hash3(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static void insert_pos(Matcher *m, const uint8_t *buf, int pos)
{
    unsigned h = hash3(buf + pos);
    m->prev[pos] = m->head[h];
    m->head[h] = pos;
}

static int longest_match(Matcher *m, const uint8_t *buf, int pos, int n, int *dist)
{
    int best = 0, chain = MAX_CHAIN;
    int cand = m->head[hash3(buf + pos)];
    int limit = n - pos < MAX_MATCH ? n - pos : MAX_MATCH;
    while (cand >= 0 && pos - cand <= WINDOW && chain-- > 0) {
        m->chain_steps++;
        if (buf[cand + best] == buf[pos + best]) {
            int len = 0;
            while (len < limit && buf[cand + len] == buf[pos + len]) len++;
            if (len > best) {
                best = len;
                *dist = pos - cand;
                if (len == limit) break;
            }
        }
        cand = m->prev[cand];
    }
    return best;
}

/* Token format: a flag byte covers the next 8 items; bit=0 is a literal byte, bit=1 a
   match stored in 3 bytes as (len-3) in the high bits and (dist-1) in the low 12 bits. */
typedef struct {
    uint8_t *out;
    size_t pos;
    size_t flag_pos;
    int nbits;
} Writer;

static void begin_item(Writer *w, int is_match)
{
    if (w->nbits == 0) {
        w->flag_pos = w->pos++;
        w->out[w->flag_pos] = 0;
    }
    if (is_match) w->out[w->flag_pos] |= (uint8_t)(1u << w->nbits);
    w->nbits = (w->nbits + 1) & 7;
}

static void put_literal(Writer *w, uint8_t b)
{
    begin_item(w, 0);
    w->out[w->pos++] = b;
}

static void put_match(Writer *w, int len, int dist)
{
    begin_item(w, 1);
    uint32_t v = (uint32_t)(len - MIN_MATCH) << 12 | (uint32_t)(dist - 1);
    w->out[w->pos++] = (uint8_t)(v >> 16);
    w->out[w->pos++] = (uint8_t)(v >> 8);
    w->out[w->pos++] = (uint8_t)v;
}

static size_t compress(const uint8_t *in, int n, uint8_t *out, unsigned long *steps, int *matches)
{
    Matcher m;
    m.prev = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    m.chain_steps = 0;
    for (int i = 0; i < HASH_SIZE; ++i) m.head[i] = -1;
    Writer w = {out, 0, 0, 0};
    int pos = 0;
    *matches = 0;
    while (pos < n) {
        int dist = 0, len = 0;
        if (pos + MIN_MATCH <= n) len = longest_match(&m, in, pos, n, &dist);
        if (len >= MIN_MATCH && pos + 1 + MIN_MATCH <= n) {
            /* lazy evaluation: prefer a longer match starting one byte later */
            insert_pos(&m, in, pos);
            int d2 = 0;
            int l2 = longest_match(&m, in, pos + 1, n, &d2);
            if (l2 > len + 1) {
                put_literal(&w, in[pos]);
                pos++;
                len = l2;
                dist = d2;
            } else {
                put_match(&w, len, dist);
                (*matches)++;
                for (int k = 1; k < len; ++k)
                    if (pos + k + MIN_MATCH <= n) insert_pos(&m, in, pos + k);
                pos += len;
                continue;
            }
        }
        if (len >= MIN_MATCH) {
            put_match(&w, len, dist);
            (*matches)++;
            for (int k = 0; k < len; ++k)
                if (pos + k + MIN_MATCH <= n) insert_pos(&m, in, pos + k);
            pos += len;
        } else {
            if (pos + MIN_MATCH <= n) insert_pos(&m, in, pos);
            put_literal(&w, in[pos]);
            pos++;
        }
    }
    *steps = m.chain_steps;
    free(m.prev);
    return w.pos;
}

static size_t decompress(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t ip = 0, op = 0;
    while (ip < n) {
        uint8_t flags = in[ip++];
        for (int b = 0; b < 8 && ip < n; ++b) {
            if (flags & (1u << b)) {
                uint32_t v = (uint32_t)in[ip] << 16 | (uint32_t)in[ip + 1] << 8 | in[ip + 2];
                ip += 3;
                size_t len = (v >> 12) + MIN_MATCH, dist = (v & 0xFFFu) + 1;
                /* byte-by-byte copy: overlapping matches replicate recent data */
                for (size_t k = 0; k < len; ++k, ++op) out[op] = out[op - dist];
            } else {
                out[op++] = in[ip++];
            }
        }
    }
    return op;
}

static uint32_t s = 1u;
static uint32_t rnd(void)
{
    s = s * 1103515245u + 12345u;
    return s >> 16;
}

static int make_text(uint8_t *buf, int cap)
{
    static const char *const words[] = {"compiler", "pass", "loop", "vector", "inline", "the", "of", "register",
                                        "allocation", "schedule", "and", "memory", "graph", "node", "edge"};
    int n = 0;
    while (n < cap - 16) {
        const char *w = words[rnd() % 15u];
        size_t l = strlen(w);
        memcpy(buf + n, w, l);
        n += (int)l;
        buf[n++] = (rnd() % 11u == 0) ? '\n' : ' ';
    }
    return n;
}

int main(void)
{
    enum { N = 12000 };
    uint8_t *in = malloc(N), *comp = malloc(N * 2), *back = malloc(N);
    if (!in || !comp || !back) return 1;
    uint32_t acc = 0;
    for (int kind = 0; kind < 4; ++kind) {
        int n;
        switch (kind) {
        case 0: n = make_text(in, N); break;
        case 1:
            n = N;
            for (int i = 0; i < n; ++i) in[i] = (uint8_t)rnd();
            break;
        case 2:
            n = N;
            for (int i = 0; i < n; ++i) in[i] = (uint8_t)((i / 16) % 7 * 3 + (i % 16 < 4));
            break;
        default:
            n = 5000;
            memset(in, 'z', (size_t)n);
            break;
        }
        unsigned long steps;
        int matches;
        size_t c = compress(in, n, comp, &steps, &matches);
        size_t d = decompress(comp, c, back);
        int ok = d == (size_t)n && memcmp(in, back, (size_t)n) == 0;
        for (size_t i = 0; i < c; ++i) acc = (acc << 3 | acc >> 29) ^ comp[i];
        printf("kind %d: %d -> %zu bytes, matches=%d steps=%lu roundtrip=%s\n", kind, n, c, matches, steps,
               ok ? "ok" : "FAIL");
    }
    printf("acc=%08x\n", (unsigned)acc);
    free(in);
    free(comp);
    free(back);
    return 0;
}
