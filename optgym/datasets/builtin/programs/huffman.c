/* optgym-builtin: Huffman coding: count symbol frequencies of generated text, build the tree with a min-heap, derive canonical codes, bit-pack the encoding, decode by walking the tree and verify. Style: struct-heavy, recursive, bit-twiddling, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct Node {
    uint32_t freq;
    int symbol; /* -1 for internal nodes */
    int order;  /* tie-breaker so the tree shape is deterministic */
    struct Node *left, *right;
} Node;

typedef struct {
    Node **items;
    int size;
} Heap;

static int node_less(const Node *a, const Node *b)
{
    if (a->freq != b->freq) return a->freq < b->freq;
    return a->order < b->order;
}

static void heap_push(Heap *h, Node *n)
{
    int i = h->size++;
    h->items[i] = n;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!node_less(h->items[i], h->items[p])) break;
        Node *t = h->items[i];
        h->items[i] = h->items[p];
        h->items[p] = t;
        i = p;
    }
}

static Node *heap_pop(Heap *h)
{
    Node *top = h->items[0];
    h->items[0] = h->items[--h->size];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->size && node_less(h->items[l], h->items[m])) m = l;
        if (r < h->size && node_less(h->items[r], h->items[m])) m = r;
        if (m == i) break;
        Node *t = h->items[i];
        h->items[i] = h->items[m];
        h->items[m] = t;
        i = m;
    }
    return top;
}

static Node *build_tree(const uint32_t freq[256], Node *pool, int *used)
{
    Node *slots[512];
    Heap h = {slots, 0};
    int n = 0;
    for (int s = 0; s < 256; ++s)
        if (freq[s]) {
            pool[n] = (Node){freq[s], s, n, NULL, NULL};
            heap_push(&h, &pool[n]);
            n++;
        }
    if (n == 1) { /* a single symbol still needs a one-bit code */
        pool[n] = (Node){pool[0].freq, -1, n, &pool[0], NULL};
        *used = n + 1;
        return &pool[n];
    }
    while (h.size > 1) {
        Node *a = heap_pop(&h), *b = heap_pop(&h);
        pool[n] = (Node){a->freq + b->freq, -1, n, a, b};
        heap_push(&h, &pool[n]);
        n++;
    }
    *used = n;
    return heap_pop(&h);
}

static void code_lengths(const Node *n, int depth, uint8_t len[256])
{
    if (!n) return;
    if (n->symbol >= 0) {
        len[n->symbol] = (uint8_t)(depth ? depth : 1);
        return;
    }
    code_lengths(n->left, depth + 1, len);
    code_lengths(n->right, depth + 1, len);
}

/* canonical codes: sort symbols by (length, symbol) and count upward */
static void canonical_codes(const uint8_t len[256], uint32_t code[256])
{
    uint32_t next = 0;
    int prev_len = 0;
    for (int l = 1; l <= 32; ++l)
        for (int s = 0; s < 256; ++s)
            if (len[s] == l) {
                next <<= (l - prev_len);
                prev_len = l;
                code[s] = next++;
            }
}

typedef struct {
    uint8_t *buf;
    size_t bitpos;
} BitWriter;

static void put_bits(BitWriter *w, uint32_t code, int n)
{
    for (int i = n - 1; i >= 0; --i) {
        if ((code >> i) & 1u) w->buf[w->bitpos >> 3] |= (uint8_t)(0x80u >> (w->bitpos & 7));
        w->bitpos++;
    }
}

static int get_bit(const uint8_t *buf, size_t pos) { return (buf[pos >> 3] >> (7 - (pos & 7))) & 1; }

/* decoding needs a tree whose shape matches the canonical codes */
static Node *canon_tree(const uint8_t len[256], const uint32_t code[256], Node *pool, int *used)
{
    Node *root = &pool[(*used)++];
    *root = (Node){0, -1, 0, NULL, NULL};
    for (int s = 0; s < 256; ++s) {
        if (!len[s]) continue;
        Node *n = root;
        for (int i = len[s] - 1; i >= 0; --i) {
            Node **next = ((code[s] >> i) & 1u) ? &n->right : &n->left;
            if (!*next) {
                *next = &pool[(*used)++];
                **next = (Node){0, -1, 0, NULL, NULL};
            }
            n = *next;
        }
        n->symbol = s;
    }
    return root;
}

static uint32_t state = 5u;
static uint32_t rnd(void)
{
    state = state * 1664525u + 1013904223u;
    return state >> 8;
}

static size_t make_input(uint8_t *buf, size_t cap, int kind)
{
    static const char text[] = "it was the best of times it was the worst of times it was the age of wisdom ";
    for (size_t i = 0; i < cap; ++i) {
        switch (kind) {
        case 0: buf[i] = (uint8_t)text[(i + (rnd() % 13u == 0 ? 5u : 0u)) % (sizeof text - 1)]; break;
        case 1: { uint32_t r = rnd() % 1000u; buf[i] = (uint8_t)('a' + (r * r) / 40000u); } break;
        case 2: buf[i] = (uint8_t)rnd(); break;
        default: buf[i] = 'q'; break;
        }
    }
    return cap;
}

int main(void)
{
    enum { N = 8000 };
    uint8_t *in = malloc(N), *enc = malloc(N * 4), *out = malloc(N);
    Node *pool = malloc(sizeof(Node) * 1200);
    if (!in || !enc || !out || !pool) return 1;
    uint32_t acc = 0;
    for (int kind = 0; kind < 4; ++kind) {
        size_t n = make_input(in, N, kind);
        uint32_t freq[256] = {0};
        for (size_t i = 0; i < n; ++i) freq[in[i]]++;
        int used = 0;
        Node *root = build_tree(freq, pool, &used);
        uint8_t len[256] = {0};
        uint32_t code[256] = {0};
        code_lengths(root, 0, len);
        canonical_codes(len, code);
        memset(enc, 0, N * 4);
        BitWriter w = {enc, 0};
        for (size_t i = 0; i < n; ++i) put_bits(&w, code[in[i]], len[in[i]]);
        Node *droot = canon_tree(len, code, pool, &used);
        size_t bp = 0, o = 0;
        while (o < n) {
            const Node *nd = droot;
            while (nd->symbol < 0) nd = get_bit(enc, bp++) ? nd->right : nd->left;
            out[o++] = (uint8_t)nd->symbol;
        }
        int ok = memcmp(in, out, n) == 0 && bp == w.bitpos;
        int symbols = 0, maxlen = 0;
        for (int s = 0; s < 256; ++s)
            if (len[s]) {
                symbols++;
                if (len[s] > maxlen) maxlen = len[s];
                acc = acc * 31u + code[s] * 256u + len[s];
            }
        printf("kind %d: symbols=%d maxlen=%d bits=%zu bytes=%zu ratio=%zu%% nodes=%d %s\n", kind, symbols, maxlen,
               w.bitpos, (w.bitpos + 7) / 8, (w.bitpos + 7) / 8 * 100 / n, used, ok ? "ok" : "FAIL");
    }
    printf("acc=%08x\n", (unsigned)acc);
    free(in);
    free(enc);
    free(out);
    free(pool);
    return 0;
}
