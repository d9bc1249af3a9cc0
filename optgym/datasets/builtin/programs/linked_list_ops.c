/* optgym-builtin: Singly and doubly linked list algorithms: iterative and recursive reversal, merge sort, sorted merge, deduplication, rotation, Floyd cycle detection, palindrome checks, and doubly linked splicing and move-to-front. Style: pointer-heavy, recursive, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct SNode {
    int val;
    struct SNode *next;
} SNode;

typedef struct DNode {
    int key;
    struct DNode *prev, *next;
} DNode;

typedef struct {
    DNode head; /* sentinel: head.next is first, head.prev is last */
    int size;
} DList;

static uint32_t lcg = 271828u;

static int rnd(int n)
{
    lcg = lcg * 1103515245u + 12345u;
    return (int)((lcg >> 16) % (uint32_t)n);
}

static SNode *s_push(SNode *head, int v)
{
    SNode *n = malloc(sizeof *n);
    n->val = v;
    n->next = head;
    return n;
}

static SNode *s_build(int count, int range)
{
    SNode *h = NULL;
    for (int i = 0; i < count; i++)
        h = s_push(h, rnd(range));
    return h;
}

static void s_free(SNode *h)
{
    while (h) {
        SNode *n = h->next;
        free(h);
        h = n;
    }
}

static int s_length(const SNode *h)
{
    int n = 0;
    for (; h; h = h->next)
        n++;
    return n;
}

static uint32_t s_hash(const SNode *h)
{
    uint32_t x = 2166136261u;
    for (; h; h = h->next)
        x = (x ^ (uint32_t)h->val) * 16777619u;
    return x;
}

static SNode *s_reverse(SNode *h)
{
    SNode *prev = NULL;
    while (h) {
        SNode *n = h->next;
        h->next = prev;
        prev = h;
        h = n;
    }
    return prev;
}

static SNode *s_reverse_rec(SNode *h)
{
    if (!h || !h->next)
        return h;
    SNode *rest = s_reverse_rec(h->next);
    h->next->next = h;
    h->next = NULL;
    return rest;
}

static SNode *s_merge(SNode *a, SNode *b)
{
    SNode dummy;
    SNode *tail = &dummy;
    while (a && b) {
        SNode **pick = a->val <= b->val ? &a : &b;
        tail->next = *pick;
        tail = *pick;
        *pick = (*pick)->next;
    }
    tail->next = a ? a : b;
    return dummy.next;
}

static SNode *s_sort(SNode *h)
{
    if (!h || !h->next)
        return h;
    SNode *slow = h, *fast = h->next;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
    }
    SNode *second = slow->next;
    slow->next = NULL;
    return s_merge(s_sort(h), s_sort(second));
}

static int s_is_sorted(const SNode *h)
{
    for (; h && h->next; h = h->next)
        if (h->val > h->next->val)
            return 0;
    return 1;
}

static int s_dedupe_sorted(SNode *h)
{
    int removed = 0;
    while (h && h->next) {
        if (h->val == h->next->val) {
            SNode *d = h->next;
            h->next = d->next;
            free(d);
            removed++;
        } else {
            h = h->next;
        }
    }
    return removed;
}

static SNode *s_rotate(SNode *h, int k)
{
    int n = s_length(h);
    if (n < 2 || (k %= n) == 0)
        return h;
    SNode *tail = h;
    while (tail->next)
        tail = tail->next;
    tail->next = h; /* temporarily circular */
    for (int i = 0; i < n - k; i++)
        tail = tail->next;
    SNode *nh = tail->next;
    tail->next = NULL;
    return nh;
}

static const SNode *s_nth_from_end(const SNode *h, int k)
{
    const SNode *lead = h, *trail = h;
    for (int i = 0; i < k; i++) {
        if (!lead)
            return NULL;
        lead = lead->next;
    }
    while (lead) {
        lead = lead->next;
        trail = trail->next;
    }
    return trail;
}

/* Floyd's tortoise and hare; returns cycle length or 0. */
static int s_cycle_length(const SNode *h)
{
    const SNode *slow = h, *fast = h;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
        if (slow == fast) {
            int len = 1;
            for (const SNode *p = slow->next; p != slow; p = p->next)
                len++;
            return len;
        }
    }
    return 0;
}

static int s_is_palindrome(SNode *h)
{
    int n = s_length(h);
    if (n < 2)
        return 1;
    SNode *mid = h;
    for (int i = 0; i < (n + 1) / 2 - 1; i++)
        mid = mid->next;
    SNode *second = s_reverse(mid->next);
    int ok = 1;
    for (SNode *a = h, *b = second; b; a = a->next, b = b->next)
        if (a->val != b->val)
            ok = 0;
    mid->next = s_reverse(second); /* restore */
    return ok;
}

static void d_init(DList *l)
{
    l->head.prev = l->head.next = &l->head;
    l->size = 0;
}

static void d_link_after(DNode *pos, DNode *n)
{
    n->prev = pos;
    n->next = pos->next;
    pos->next->prev = n;
    pos->next = n;
}

static void d_unlink(DNode *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
}

static void d_push_back(DList *l, int key)
{
    DNode *n = malloc(sizeof *n);
    n->key = key;
    d_link_after(l->head.prev, n);
    l->size++;
}

static DNode *d_find(DList *l, int key)
{
    for (DNode *p = l->head.next; p != &l->head; p = p->next)
        if (p->key == key)
            return p;
    return NULL;
}

static void d_move_to_front(DList *l, DNode *n)
{
    d_unlink(n);
    d_link_after(&l->head, n);
}

static int d_check(const DList *l)
{
    int n = 0;
    for (const DNode *p = l->head.next; p != &l->head; p = p->next) {
        if (p->next->prev != p || p->prev->next != p)
            return -1;
        n++;
    }
    return n == l->size ? n : -1;
}

static void d_free(DList *l)
{
    DNode *p = l->head.next;
    while (p != &l->head) {
        DNode *n = p->next;
        free(p);
        p = n;
    }
    d_init(l);
}

int main(void)
{
    uint32_t total = 0;
    for (int round = 0; round < 6; round++) {
        int n = 200 + round * 150;
        SNode *a = s_build(n, 50 + round * 40);
        uint32_t h0 = s_hash(a);
        a = s_reverse(a);
        a = s_reverse_rec(a);
        int rev_ok = s_hash(a) == h0;
        a = s_sort(a);
        SNode *b = s_sort(s_build(n / 2, 100));
        a = s_merge(a, b);
        int sorted = s_is_sorted(a);
        int before = s_length(a);
        int removed = s_dedupe_sorted(a);
        a = s_rotate(a, 7 * round + 3);
        const SNode *k = s_nth_from_end(a, 5);
        printf("round %d: n=%d rev_ok=%d sorted=%d len=%d dedup_removed=%d rotated_head=%d fifth_last=%d hash=%08x\n",
               round, n, rev_ok, sorted, before, removed, a->val, k ? k->val : -1, (unsigned)s_hash(a));
        total = total * 31u + s_hash(a);
        s_free(a);
    }

    /* Cycle detection: link the tail back into the list, measure, then unlink. */
    SNode *c = s_build(500, 1000);
    SNode *tail = c, *entry = NULL;
    int idx = 0;
    for (; tail->next; tail = tail->next, idx++)
        if (idx == 123)
            entry = tail;
    tail->next = entry;
    int cyc = s_cycle_length(c);
    tail->next = NULL;
    printf("cycle length=%d after unlink=%d\n", cyc, s_cycle_length(c));
    s_free(c);

    int pal_count = 0;
    for (int t = 0; t < 200; t++) {
        int len = 1 + rnd(9);
        int vals[10];
        for (int i = 0; i < len; i++)
            vals[i] = rnd(3);
        if (t % 3 == 0)
            for (int i = 0; i < len / 2; i++)
                vals[len - 1 - i] = vals[i];
        SNode *p = NULL;
        for (int i = 0; i < len; i++)
            p = s_push(p, vals[i]);
        uint32_t before = s_hash(p);
        pal_count += s_is_palindrome(p);
        if (s_hash(p) != before)
            pal_count += 1000;
        s_free(p);
    }
    printf("palindromes=%d\n", pal_count);

    /* Doubly linked list used as a move-to-front list over a skewed access stream. */
    DList dl;
    d_init(&dl);
    for (int i = 0; i < 100; i++)
        d_push_back(&dl, i);
    long depth_sum = 0;
    int misses = 0;
    for (int t = 0; t < 5000; t++) {
        int key = rnd(4) ? rnd(10) : rnd(120);
        int depth = 0;
        DNode *p;
        for (p = dl.head.next; p != &dl.head && p->key != key; p = p->next)
            depth++;
        if (p == &dl.head) {
            misses++;
            d_push_back(&dl, key);
            p = d_find(&dl, key);
        }
        depth_sum += depth;
        d_move_to_front(&dl, p);
    }
    uint32_t dh = 0;
    for (DNode *p = dl.head.next; p != &dl.head; p = p->next)
        dh = dh * 131u + (uint32_t)p->key;
    printf("mtf: size=%d check=%d misses=%d avg_depth_x100=%ld order=%08x\n", dl.size, d_check(&dl), misses,
           depth_sum * 100 / 5000, (unsigned)dh);
    d_free(&dl);
    printf("total=%08x\n", (unsigned)total);
    return 0;
}
