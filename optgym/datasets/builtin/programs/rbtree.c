/* optgym-builtin: A left-leaning red-black tree keyed by integers with string-tagged values, supporting insert, delete-min, delete, floor/ceiling queries and black-height validation under a generated workload. Style: recursive, struct-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RED 1
#define BLACK 0

typedef struct RB {
    int key;
    uint32_t val;
    uint8_t color;
    struct RB *left, *right;
} RB;

static long flips, rotations;

static int is_red(const RB *n) { return n && n->color == RED; }

static RB *rot_left(RB *h)
{
    RB *x = h->right;
    h->right = x->left;
    x->left = h;
    x->color = h->color;
    h->color = RED;
    rotations++;
    return x;
}

static RB *rot_right(RB *h)
{
    RB *x = h->left;
    h->left = x->right;
    x->right = h;
    x->color = h->color;
    h->color = RED;
    rotations++;
    return x;
}

static void flip(RB *h)
{
    h->color = !h->color;
    h->left->color = !h->left->color;
    h->right->color = !h->right->color;
    flips++;
}

static RB *fix_up(RB *h)
{
    if (is_red(h->right) && !is_red(h->left)) h = rot_left(h);
    if (is_red(h->left) && is_red(h->left->left)) h = rot_right(h);
    if (is_red(h->left) && is_red(h->right)) flip(h);
    return h;
}

static RB *put(RB *h, int key, uint32_t val)
{
    if (!h) {
        RB *n = malloc(sizeof *n);
        n->key = key;
        n->val = val;
        n->color = RED;
        n->left = n->right = NULL;
        return n;
    }
    if (key < h->key) h->left = put(h->left, key, val);
    else if (key > h->key) h->right = put(h->right, key, val);
    else h->val = val;
    return fix_up(h);
}

static RB *move_red_left(RB *h)
{
    flip(h);
    if (is_red(h->right->left)) {
        h->right = rot_right(h->right);
        h = rot_left(h);
        flip(h);
    }
    return h;
}

static RB *move_red_right(RB *h)
{
    flip(h);
    if (is_red(h->left->left)) {
        h = rot_right(h);
        flip(h);
    }
    return h;
}

static RB *del_min(RB *h)
{
    if (!h->left) {
        free(h);
        return NULL;
    }
    if (!is_red(h->left) && !is_red(h->left->left)) h = move_red_left(h);
    h->left = del_min(h->left);
    return fix_up(h);
}

static const RB *min_node(const RB *h)
{
    while (h->left) h = h->left;
    return h;
}

static int contains(const RB *h, int key)
{
    while (h) {
        if (key == h->key) return 1;
        h = key < h->key ? h->left : h->right;
    }
    return 0;
}

/* caller guarantees key is present */
static RB *del(RB *h, int key)
{
    if (key < h->key) {
        if (!is_red(h->left) && !is_red(h->left->left)) h = move_red_left(h);
        h->left = del(h->left, key);
    } else {
        if (is_red(h->left)) h = rot_right(h);
        if (key == h->key && !h->right) {
            free(h);
            return NULL;
        }
        if (!is_red(h->right) && !is_red(h->right->left)) h = move_red_right(h);
        if (key == h->key) {
            const RB *m = min_node(h->right);
            h->key = m->key;
            h->val = m->val;
            h->right = del_min(h->right);
        } else {
            h->right = del(h->right, key);
        }
    }
    return fix_up(h);
}

static RB *erase(RB *root, int key)
{
    if (!contains(root, key)) return root;
    if (!is_red(root->left) && !is_red(root->right)) root->color = RED;
    root = del(root, key);
    if (root) root->color = BLACK;
    return root;
}

static const RB *floor_node(const RB *h, int key)
{
    const RB *best = NULL;
    while (h) {
        if (key == h->key) return h;
        if (key < h->key) h = h->left;
        else {
            best = h;
            h = h->right;
        }
    }
    return best;
}

static const RB *ceil_node(const RB *h, int key)
{
    const RB *best = NULL;
    while (h) {
        if (key == h->key) return h;
        if (key > h->key) h = h->right;
        else {
            best = h;
            h = h->left;
        }
    }
    return best;
}

/* returns black height, or -1 if any red-black or LLRB invariant fails */
static int validate(const RB *h, long lo, long hi, int *count)
{
    if (!h) return 0;
    (*count)++;
    if (h->key <= lo || h->key >= hi) return -1;
    if (is_red(h->right)) return -1;
    if (is_red(h) && is_red(h->left)) return -1;
    int l = validate(h->left, lo, h->key, count), r = validate(h->right, h->key, hi, count);
    if (l < 0 || r < 0 || l != r) return -1;
    return l + (h->color == BLACK);
}

static int height(const RB *h)
{
    if (!h) return 0;
    int l = height(h->left), r = height(h->right);
    return 1 + (l > r ? l : r);
}

static void destroy(RB *h)
{
    if (!h) return;
    destroy(h->left);
    destroy(h->right);
    free(h);
}

static uint32_t x = 0x13579BDFu;
static uint32_t rnd(void)
{
    x = x * 1103515245u + 12345u;
    return x >> 3;
}

int main(void)
{
    RB *root = NULL;
    uint32_t acc = 0;
    long floor_sum = 0, ceil_sum = 0;
    for (int i = 0; i < 10000; ++i) {
        uint32_t r = rnd();
        int key = (int)(r % 30000u);
        switch (r % 10u) {
        case 0:
        case 1:
        case 2: root = erase(root, key); break;
        case 3:
            if (root) root = del_min(root);
            if (root) root->color = BLACK;
            break;
        case 4: {
            const RB *f = floor_node(root, key), *c = ceil_node(root, key);
            floor_sum += f ? f->key : -1;
            ceil_sum += c ? c->key : -1;
            if (f) acc ^= f->val;
            break;
        }
        default:
            root = put(root, key, r * 2654435761u);
            root->color = BLACK;
        }
    }
    int count = 0;
    int bh = validate(root, -1, 1L << 40, &count);
    printf("size=%d black_height=%d height=%d rotations=%ld flips=%ld\n", count, bh, height(root), rotations, flips);
    printf("floor_sum=%ld ceil_sum=%ld acc=%08x min=%d\n", floor_sum, ceil_sum, (unsigned)acc,
           root ? min_node(root)->key : -1);
    destroy(root);
    return 0;
}
