/* optgym-builtin: A recursive AVL tree with insertion, deletion, rotations, order statistics via subtree sizes, range counting and invariant checking under a generated mixed workload. Style: recursive, struct-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct Node {
    int key;
    int height;
    int size;
    struct Node *left, *right;
} Node;

static long rotations;

static int h(const Node *n) { return n ? n->height : 0; }
static int sz(const Node *n) { return n ? n->size : 0; }
static int max2(int a, int b) { return a > b ? a : b; }

static void update(Node *n)
{
    n->height = 1 + max2(h(n->left), h(n->right));
    n->size = 1 + sz(n->left) + sz(n->right);
}

static Node *rotate_right(Node *y)
{
    Node *x = y->left;
    y->left = x->right;
    x->right = y;
    update(y);
    update(x);
    rotations++;
    return x;
}

static Node *rotate_left(Node *x)
{
    Node *y = x->right;
    x->right = y->left;
    y->left = x;
    update(x);
    update(y);
    rotations++;
    return y;
}

static Node *rebalance(Node *n)
{
    update(n);
    int bal = h(n->left) - h(n->right);
    if (bal > 1) {
        if (h(n->left->left) < h(n->left->right)) n->left = rotate_left(n->left);
        return rotate_right(n);
    }
    if (bal < -1) {
        if (h(n->right->right) < h(n->right->left)) n->right = rotate_right(n->right);
        return rotate_left(n);
    }
    return n;
}

static Node *insert(Node *n, int key, int *added)
{
    if (!n) {
        Node *m = malloc(sizeof *m);
        m->key = key;
        m->height = m->size = 1;
        m->left = m->right = NULL;
        *added = 1;
        return m;
    }
    if (key < n->key) n->left = insert(n->left, key, added);
    else if (key > n->key) n->right = insert(n->right, key, added);
    else return n;
    return rebalance(n);
}

static Node *remove_min(Node *n, Node **min)
{
    if (!n->left) {
        *min = n;
        return n->right;
    }
    n->left = remove_min(n->left, min);
    return rebalance(n);
}

static Node *erase(Node *n, int key, int *removed)
{
    if (!n) return NULL;
    if (key < n->key) n->left = erase(n->left, key, removed);
    else if (key > n->key) n->right = erase(n->right, key, removed);
    else {
        *removed = 1;
        Node *l = n->left, *r = n->right;
        free(n);
        if (!r) return l;
        Node *m;
        r = remove_min(r, &m);
        m->left = l;
        m->right = r;
        return rebalance(m);
    }
    return rebalance(n);
}

static int kth(const Node *n, int k)
{
    while (n) {
        int ls = sz(n->left);
        if (k < ls) n = n->left;
        else if (k == ls) return n->key;
        else {
            k -= ls + 1;
            n = n->right;
        }
    }
    return -1;
}

/* number of keys < key */
static int rank_of(const Node *n, int key)
{
    int r = 0;
    while (n) {
        if (key <= n->key) n = n->left;
        else {
            r += sz(n->left) + 1;
            n = n->right;
        }
    }
    return r;
}

static int check(const Node *n, long lo, long hi, int *ok)
{
    if (!n) return 0;
    if (n->key <= lo || n->key >= hi) *ok = 0;
    int hl = check(n->left, lo, n->key, ok), hr = check(n->right, n->key, hi, ok);
    if (hl - hr > 1 || hr - hl > 1 || n->height != 1 + max2(hl, hr) || n->size != 1 + sz(n->left) + sz(n->right))
        *ok = 0;
    return n->height;
}

static void inorder_hash(const Node *n, uint32_t *acc)
{
    if (!n) return;
    inorder_hash(n->left, acc);
    *acc = *acc * 31u + (uint32_t)n->key;
    inorder_hash(n->right, acc);
}

static void destroy(Node *n)
{
    if (!n) return;
    destroy(n->left);
    destroy(n->right);
    free(n);
}

static uint32_t st = 2718281u;
static uint32_t rnd(void)
{
    st ^= st << 13;
    st ^= st >> 17;
    st ^= st << 5;
    return st;
}

int main(void)
{
    Node *root = NULL;
    int ins = 0, del = 0;
    long range_sum = 0;
    for (int i = 0; i < 12000; ++i) {
        uint32_t r = rnd();
        int key = (int)(r % 20000u);
        int flag = 0;
        switch ((r >> 20) % 8u) {
        case 0:
        case 1:
            root = erase(root, key, &flag);
            del += flag;
            break;
        case 2:
            if (sz(root) > 10) range_sum += rank_of(root, key + 500) - rank_of(root, key);
            break;
        default:
            root = insert(root, key, &flag);
            ins += flag;
        }
        /* sequential burst: sorted inserts stress rotations */
        if (i % 3000 == 2999)
            for (int k = 0; k < 300; ++k) {
                flag = 0;
                root = insert(root, 30000 + i + k, &flag);
                ins += flag;
            }
    }
    int ok = 1;
    check(root, -1, 1L << 40, &ok);
    uint32_t acc = 0;
    inorder_hash(root, &acc);
    int n = sz(root);
    printf("inserted=%d deleted=%d size=%d height=%d rotations=%ld valid=%d\n", ins, del, n, h(root), rotations, ok);
    printf("min=%d median=%d max=%d p90=%d range_sum=%ld acc=%08x\n", kth(root, 0), kth(root, n / 2), kth(root, n - 1),
           kth(root, n * 9 / 10), range_sum, (unsigned)acc);
    destroy(root);
    return 0;
}
