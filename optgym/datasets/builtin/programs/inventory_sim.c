/* optgym-builtin: Multi-warehouse inventory simulation with product records, order fulfilment across warehouses, reorder points with supplier lead times, FIFO lot costing, and reports sorted by several keys with a stable merge sort. Style: struct-heavy, loop-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NPRODUCTS 120
#define NWAREHOUSES 4
#define MAXLOTS 12
#define NDAYS 90
#define MAXPENDING 512

typedef struct {
    int qty;
    int unit_cost; /* cents */
} Lot;

typedef struct {
    Lot lots[MAXLOTS]; /* FIFO queue */
    int head, count;
    int on_hand;
} Stock;

typedef struct {
    int id;
    char sku[12];
    int category;
    int price;        /* cents */
    int base_cost;    /* cents */
    int reorder_point;
    int reorder_qty;
    int lead_days;
    Stock stock[NWAREHOUSES];
    long units_sold;
    long revenue;
    long cogs;
    int stockouts;
} Product;

typedef struct {
    int product;
    int warehouse;
    int qty;
    int arrival_day;
    int unit_cost;
} Pending;

typedef struct {
    Product products[NPRODUCTS];
    Pending pending[MAXPENDING];
    int npending;
    long orders, lines_filled, lines_partial, lines_missed, split_shipments;
    long receipts;
} World;

static uint32_t rs = 4242u;

static uint32_t rnd(uint32_t n)
{
    rs = rs * 1664525u + 1013904223u;
    return (rs >> 9) % n;
}

static void stock_add(Stock *s, int qty, int cost)
{
    if (s->count == MAXLOTS) {
        /* Merge the two newest lots by weighted average cost to make room. */
        int a = (s->head + s->count - 2) % MAXLOTS, b = (s->head + s->count - 1) % MAXLOTS;
        long total = (long)s->lots[a].qty * s->lots[a].unit_cost + (long)s->lots[b].qty * s->lots[b].unit_cost;
        s->lots[a].qty += s->lots[b].qty;
        s->lots[a].unit_cost = (int)(total / s->lots[a].qty);
        s->count--;
    }
    Lot *l = &s->lots[(s->head + s->count) % MAXLOTS];
    l->qty = qty;
    l->unit_cost = cost;
    s->count++;
    s->on_hand += qty;
}

/* Removes up to qty units, oldest lots first; returns units taken and adds their cost. */
static int stock_take(Stock *s, int qty, long *cost)
{
    int taken = 0;
    while (qty > 0 && s->count > 0) {
        Lot *l = &s->lots[s->head];
        int t = l->qty < qty ? l->qty : qty;
        l->qty -= t;
        qty -= t;
        taken += t;
        *cost += (long)t * l->unit_cost;
        if (l->qty == 0) {
            s->head = (s->head + 1) % MAXLOTS;
            s->count--;
        }
    }
    s->on_hand -= taken;
    return taken;
}

static int total_on_hand(const Product *p)
{
    int t = 0;
    for (int w = 0; w < NWAREHOUSES; w++)
        t += p->stock[w].on_hand;
    return t;
}

static int pending_qty(const World *wd, int product, int warehouse)
{
    int q = 0;
    for (int i = 0; i < wd->npending; i++)
        if (wd->pending[i].product == product && wd->pending[i].warehouse == warehouse)
            q += wd->pending[i].qty;
    return q;
}

static void init_world(World *wd)
{
    memset(wd, 0, sizeof *wd);
    for (int i = 0; i < NPRODUCTS; i++) {
        Product *p = &wd->products[i];
        p->id = i;
        p->category = (int)rnd(6);
        snprintf(p->sku, sizeof p->sku, "C%d-%04d", p->category, 17 * i + 3);
        p->base_cost = 200 + (int)rnd(9800);
        p->price = p->base_cost + p->base_cost * (20 + (int)rnd(60)) / 100;
        p->reorder_point = 2 + (int)rnd(8);
        p->reorder_qty = 20 + (int)rnd(60);
        p->lead_days = 2 + (int)rnd(9);
        for (int w = 0; w < NWAREHOUSES; w++)
            stock_add(&p->stock[w], (int)rnd(40), p->base_cost);
    }
}

static void receive(World *wd, int day)
{
    int k = 0;
    for (int i = 0; i < wd->npending; i++) {
        Pending *pd = &wd->pending[i];
        if (pd->arrival_day <= day) {
            stock_add(&wd->products[pd->product].stock[pd->warehouse], pd->qty, pd->unit_cost);
            wd->receipts++;
        } else {
            wd->pending[k++] = *pd;
        }
    }
    wd->npending = k;
}

static void reorder(World *wd, int day)
{
    for (int i = 0; i < NPRODUCTS; i++) {
        Product *p = &wd->products[i];
        for (int w = 0; w < NWAREHOUSES; w++) {
            int position = p->stock[w].on_hand + pending_qty(wd, i, w);
            if (position <= p->reorder_point && wd->npending < MAXPENDING) {
                /* Supplier prices drift with a small deterministic wobble. */
                int cost = p->base_cost + p->base_cost * ((day * 7 + i) % 11 - 5) / 100;
                wd->pending[wd->npending++] = (Pending){i, w, p->reorder_qty, day + p->lead_days, cost};
            }
        }
    }
}

static void fulfil_order(World *wd, int home, int nlines)
{
    wd->orders++;
    for (int l = 0; l < nlines; l++) {
        Product *p = &wd->products[rnd(NPRODUCTS)];
        int want = 1 + (int)rnd(6);
        long cost = 0;
        int got = stock_take(&p->stock[home], want, &cost);
        for (int w = 0; got < want && w < NWAREHOUSES; w++) {
            if (w == home)
                continue;
            int more = stock_take(&p->stock[w], want - got, &cost);
            if (more > 0)
                wd->split_shipments++;
            got += more;
        }
        if (got == want)
            wd->lines_filled++;
        else if (got > 0)
            wd->lines_partial++;
        else
            wd->lines_missed++;
        if (got < want)
            p->stockouts++;
        p->units_sold += got;
        p->revenue += (long)got * p->price;
        p->cogs += cost;
    }
}

typedef int (*CmpFn)(const Product *, const Product *);

static void merge_sort(const Product **a, const Product **tmp, int n, CmpFn cmp)
{
    if (n < 2)
        return;
    int mid = n / 2;
    merge_sort(a, tmp, mid, cmp);
    merge_sort(a + mid, tmp, n - mid, cmp);
    int i = 0, j = mid, k = 0;
    while (i < mid && j < n)
        tmp[k++] = cmp(a[j], a[i]) < 0 ? a[j++] : a[i++];
    while (i < mid)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, sizeof(*a) * (size_t)n);
}

static int by_profit_desc(const Product *x, const Product *y)
{
    long px = x->revenue - x->cogs, py = y->revenue - y->cogs;
    return px > py ? -1 : px < py;
}

static int by_category(const Product *x, const Product *y) { return x->category - y->category; }

static int by_stockouts_desc(const Product *x, const Product *y) { return y->stockouts - x->stockouts; }

static long inventory_value(const Product *p)
{
    long v = 0;
    for (int w = 0; w < NWAREHOUSES; w++) {
        const Stock *s = &p->stock[w];
        for (int k = 0; k < s->count; k++) {
            const Lot *l = &s->lots[(s->head + k) % MAXLOTS];
            v += (long)l->qty * l->unit_cost;
        }
    }
    return v;
}

int main(void)
{
    static World wd;
    init_world(&wd);
    for (int day = 1; day <= NDAYS; day++) {
        receive(&wd, day);
        int orders = 60 + (int)rnd(50);
        for (int o = 0; o < orders; o++) {
            int home = (int)rnd(NWAREHOUSES);
            fulfil_order(&wd, home, 1 + (int)rnd(4));
        }
        reorder(&wd, day);
    }
    long revenue = 0, cogs = 0, value = 0, units = 0, on_hand = 0;
    for (int i = 0; i < NPRODUCTS; i++) {
        revenue += wd.products[i].revenue;
        cogs += wd.products[i].cogs;
        units += wd.products[i].units_sold;
        value += inventory_value(&wd.products[i]);
        on_hand += total_on_hand(&wd.products[i]);
    }
    printf("orders=%ld filled=%ld partial=%ld missed=%ld splits=%ld receipts=%ld pending=%d\n", wd.orders,
           wd.lines_filled, wd.lines_partial, wd.lines_missed, wd.split_shipments, wd.receipts, wd.npending);
    printf("units=%ld revenue=%ld cogs=%ld margin=%ld on_hand=%ld value=%ld\n", units, revenue, cogs, revenue - cogs,
           on_hand, value);

    const Product *view[NPRODUCTS], *tmp[NPRODUCTS];
    for (int i = 0; i < NPRODUCTS; i++)
        view[i] = &wd.products[i];
    merge_sort(view, tmp, NPRODUCTS, by_profit_desc);
    for (int i = 0; i < 4; i++)
        printf("profit #%d %s sold=%ld profit=%ld\n", i + 1, view[i]->sku, view[i]->units_sold,
               view[i]->revenue - view[i]->cogs);
    /* Stable sort by stockouts then by category keeps earlier orderings within ties. */
    merge_sort(view, tmp, NPRODUCTS, by_stockouts_desc);
    merge_sort(view, tmp, NPRODUCTS, by_category);
    uint32_t h = 0;
    int cat_count[6] = {0};
    for (int i = 0; i < NPRODUCTS; i++) {
        h = h * 131u + (uint32_t)view[i]->id;
        cat_count[view[i]->category]++;
    }
    printf("category order hash=%08x counts=%d/%d/%d/%d/%d/%d first=%s last=%s\n", (unsigned)h, cat_count[0],
           cat_count[1], cat_count[2], cat_count[3], cat_count[4], cat_count[5], view[0]->sku,
           view[NPRODUCTS - 1]->sku);
    return 0;
}
