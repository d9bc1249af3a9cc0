/* optgym-builtin: A 26-way trie over generated pseudo-English words supporting insert with counts, exact lookup, prefix counting, lexicographic enumeration, longest common prefix and deletion with pruning. Style: recursive, pointer-heavy, string-processing */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct Trie {
    struct Trie *child[26];
    int count;    /* occurrences of the word ending here */
    int prefixes; /* words in this subtree, with multiplicity */
} Trie;

static long nodes_alloc;

static Trie *new_node(void)
{
    nodes_alloc++;
    return calloc(1, sizeof(Trie));
}

static int letter(char c) { return c - 'a'; }

static void trie_insert(Trie *root, const char *w)
{
    Trie *n = root;
    n->prefixes++;
    for (; *w; ++w) {
        Trie **slot = &n->child[letter(*w)];
        if (!*slot) *slot = new_node();
        n = *slot;
        n->prefixes++;
    }
    n->count++;
}

static const Trie *walk(const Trie *n, const char *s)
{
    for (; n && *s; ++s) n = n->child[letter(*s)];
    return n;
}

static int trie_count(const Trie *root, const char *w)
{
    const Trie *n = walk(root, w);
    return n ? n->count : 0;
}

static int trie_prefix(const Trie *root, const char *p)
{
    const Trie *n = walk(root, p);
    return n ? n->prefixes : 0;
}

/* removes one occurrence; frees nodes whose subtree becomes empty */
static int trie_remove(Trie *n, const char *w)
{
    if (!*w) {
        if (!n->count) return 0;
        n->count--;
        n->prefixes--;
        return 1;
    }
    Trie *c = n->child[letter(*w)];
    if (!c || !trie_remove(c, w + 1)) return 0;
    n->prefixes--;
    if (c->prefixes == 0) {
        free(c);
        n->child[letter(*w)] = NULL;
        nodes_alloc--;
    }
    return 1;
}

typedef struct {
    int distinct;
    uint32_t hash;
    char first[32], last[32];
    char most[32];
    int most_count;
} Enum;

static void enumerate(const Trie *n, char *buf, int depth, Enum *e)
{
    if (n->count) {
        buf[depth] = '\0';
        if (e->distinct == 0) strcpy(e->first, buf);
        strcpy(e->last, buf);
        if (n->count > e->most_count) {
            e->most_count = n->count;
            strcpy(e->most, buf);
        }
        e->distinct++;
        for (int i = 0; i < depth; ++i) e->hash = e->hash * 31u + (uint8_t)buf[i];
        e->hash ^= (uint32_t)n->count;
    }
    for (int c = 0; c < 26; ++c)
        if (n->child[c]) {
            buf[depth] = (char)('a' + c);
            enumerate(n->child[c], buf, depth + 1, e);
        }
}

static int max_depth(const Trie *n)
{
    int best = 0;
    for (int c = 0; c < 26; ++c)
        if (n->child[c]) {
            int d = 1 + max_depth(n->child[c]);
            if (d > best) best = d;
        }
    return best;
}

/* follow the heaviest child at each level (ties to the lowest letter) while it holds at
   least `percent` percent of its parent's words: the most "typical" prefix */
static int dominant_path(const Trie *n, char *out, int percent)
{
    int len = 0;
    for (;;) {
        int best = -1;
        for (int c = 0; c < 26; ++c)
            if (n->child[c] && (best < 0 || n->child[c]->prefixes > n->child[best]->prefixes)) best = c;
        if (best < 0 || n->child[best]->prefixes * 100 < n->prefixes * percent) break;
        out[len++] = (char)('a' + best);
        n = n->child[best];
    }
    out[len] = '\0';
    return len;
}

static void destroy(Trie *n)
{
    for (int c = 0; c < 26; ++c)
        if (n->child[c]) destroy(n->child[c]);
    free(n);
}

static uint32_t s = 8080u;
static uint32_t rnd(uint32_t n)
{
    s = s * 1103515245u + 12345u;
    return (s >> 16) % n;
}

static void gen_word(char *w)
{
    static const char *const onset[] = {"b", "c", "d", "f", "g", "st", "tr", "pl", "sh", "m", "n", "r", "qu", "th"};
    static const char *const nucleus[] = {"a", "e", "i", "o", "u", "ea", "ou", "ai"};
    static const char *const coda[] = {"", "", "n", "t", "s", "ng", "rk", "ll"};
    int syll = 1 + (int)rnd(3);
    w[0] = '\0';
    for (int i = 0; i < syll; ++i) {
        strcat(w, onset[rnd(14)]);
        strcat(w, nucleus[rnd(8)]);
        strcat(w, coda[rnd(8)]);
    }
}

int main(void)
{
    Trie *root = new_node();
    char w[32], buf[40];
    static char saved[400][32];
    for (int i = 0; i < 4000; ++i) {
        gen_word(w);
        trie_insert(root, w);
        if (i % 10 == 0) strcpy(saved[i / 10], w);
    }
    printf("words=%d nodes=%ld depth=%d\n", root->prefixes, nodes_alloc, max_depth(root));
    static const char *const prefixes[] = {"st", "tr", "qu", "sha", "bea", "thou", "z", "plai"};
    for (int i = 0; i < 8; ++i) printf("%s:%d%c", prefixes[i], trie_prefix(root, prefixes[i]), i == 7 ? '\n' : ' ');
    Enum e;
    memset(&e, 0, sizeof e);
    enumerate(root, buf, 0, &e);
    printf("distinct=%d first=%s last=%s most=%s(%d) hash=%08x\n", e.distinct, e.first, e.last, e.most, e.most_count,
           (unsigned)e.hash);
    int removed = 0, found_before = 0;
    for (int i = 0; i < 400; ++i) {
        found_before += trie_count(root, saved[i]) > 0;
        removed += trie_remove(root, saved[i]);
        removed += trie_remove(root, saved[i]); /* second removal may fail */
    }
    char lcp[32];
    dominant_path(root, lcp, 5);
    char dom2[32];
    dominant_path(walk(root, "sh"), dom2, 20);
    memset(&e, 0, sizeof e);
    enumerate(root, buf, 0, &e);
    printf("after removal: found=%d removed=%d words=%d nodes=%ld distinct=%d dominant=\"%s\" sh+\"%s\" hash=%08x\n",
           found_before, removed, root->prefixes, nodes_alloc, e.distinct, lcp, dom2, (unsigned)e.hash);
    destroy(root);
    return 0;
}
