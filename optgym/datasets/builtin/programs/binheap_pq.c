/* optgym-builtin: A discrete-event CPU scheduler simulation driven by binary-heap priority queues: job arrivals, priority aging, time-slice preemption and completion events, reporting waiting-time statistics per class. Style: struct-heavy, many-small-functions, loop-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { EV_ARRIVAL, EV_SLICE_END, EV_AGING } EventKind;

typedef struct {
    long time;
    int seq;
    EventKind kind;
    int job;
} Event;

typedef struct {
    int id;
    int klass; /* 0 interactive, 1 batch, 2 background */
    int priority;
    long arrival, remaining, started, waited, last_ready;
} Job;

typedef struct {
    void *items;
    size_t elem, size, cap;
    int (*less)(const void *, const void *);
} Heap;

static void heap_init(Heap *h, size_t elem, size_t cap, int (*less)(const void *, const void *))
{
    h->items = malloc(elem * cap);
    h->elem = elem;
    h->size = 0;
    h->cap = cap;
    h->less = less;
}

static void *at(Heap *h, size_t i) { return (char *)h->items + i * h->elem; }

static void swap_elems(Heap *h, size_t i, size_t j)
{
    char tmp[64];
    memcpy(tmp, at(h, i), h->elem);
    memcpy(at(h, i), at(h, j), h->elem);
    memcpy(at(h, j), tmp, h->elem);
}

static void heap_push(Heap *h, const void *v)
{
    if (h->size == h->cap) {
        h->cap *= 2;
        h->items = realloc(h->items, h->elem * h->cap);
    }
    size_t i = h->size++;
    memcpy(at(h, i), v, h->elem);
    while (i > 0 && h->less(at(h, i), at(h, (i - 1) / 2))) {
        swap_elems(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_pop(Heap *h, void *out)
{
    memcpy(out, at(h, 0), h->elem);
    h->size--;
    if (h->size == 0) return;
    memcpy(at(h, 0), at(h, h->size), h->elem);
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->size && h->less(at(h, l), at(h, m))) m = l;
        if (r < h->size && h->less(at(h, r), at(h, m))) m = r;
        if (m == i) break;
        swap_elems(h, i, m);
        i = m;
    }
}

static int event_less(const void *a, const void *b)
{
    const Event *x = a, *y = b;
    if (x->time != y->time) return x->time < y->time;
    return x->seq < y->seq;
}

static Job *jobs;

/* ready queue holds job ids; ordered by priority then arrival then id */
static int ready_less(const void *a, const void *b)
{
    const Job *x = &jobs[*(const int *)a], *y = &jobs[*(const int *)b];
    if (x->priority != y->priority) return x->priority < y->priority;
    if (x->arrival != y->arrival) return x->arrival < y->arrival;
    return x->id < y->id;
}

static uint32_t seed = 777u;
static uint32_t rnd(uint32_t n)
{
    seed = seed * 1664525u + 1013904223u;
    return (seed >> 10) % n;
}

static int event_seq;
static void schedule(Heap *events, long t, EventKind k, int job)
{
    Event e = {t, event_seq++, k, job};
    heap_push(events, &e);
}

int main(void)
{
    enum { NJOBS = 1500, QUANTUM = 8 };
    jobs = calloc(NJOBS, sizeof(Job));
    Heap events, ready;
    heap_init(&events, sizeof(Event), 64, event_less);
    heap_init(&ready, sizeof(int), 64, ready_less);
    long t = 0;
    for (int i = 0; i < NJOBS; ++i) {
        t += rnd(40);
        Job *j = &jobs[i];
        j->id = i;
        j->klass = (int)rnd(10) < 5 ? 0 : (rnd(3) ? 1 : 2);
        j->priority = j->klass * 10 + (int)rnd(5);
        j->arrival = t;
        j->remaining = j->klass == 0 ? 1 + rnd(10) : (j->klass == 1 ? 5 + rnd(30) : 10 + rnd(60));
        j->started = -1;
        schedule(&events, t, EV_ARRIVAL, i);
    }
    schedule(&events, 50, EV_AGING, -1);
    int running = -1, done = 0;
    long now = 0, busy = 0, switches = 0;
    long wait_sum[3] = {0}, wait_max[3] = {0}, turnaround[3] = {0};
    int count[3] = {0};
    while (done < NJOBS && events.size) {
        Event e;
        heap_pop(&events, &e);
        now = e.time;
        switch (e.kind) {
        case EV_ARRIVAL:
            jobs[e.job].last_ready = now;
            heap_push(&ready, &e.job);
            break;
        case EV_SLICE_END: {
            Job *j = &jobs[e.job];
            long ran = j->remaining < QUANTUM ? j->remaining : QUANTUM;
            j->remaining -= ran;
            busy += ran;
            running = -1;
            if (j->remaining == 0) {
                done++;
                int k = j->klass;
                count[k]++;
                wait_sum[k] += j->waited;
                if (j->waited > wait_max[k]) wait_max[k] = j->waited;
                turnaround[k] += now - j->arrival;
            } else {
                j->last_ready = now;
                heap_push(&ready, &e.job);
            }
            break;
        }
        case EV_AGING:
            /* raise the priority of jobs that have waited long; rebuild the heap since keys changed */
            for (size_t i = 0; i < ready.size; ++i) {
                Job *j = &jobs[*(int *)at(&ready, i)];
                if (j->priority > 0 && now - j->last_ready > 100) j->priority--;
            }
            {
                size_t n = ready.size;
                int *ids = malloc(sizeof(int) * (n ? n : 1));
                for (size_t i = 0; i < n; ++i) heap_pop(&ready, &ids[i]);
                for (size_t i = 0; i < n; ++i) heap_push(&ready, &ids[i]);
                free(ids);
            }
            if (done < NJOBS) schedule(&events, now + 50, EV_AGING, -1);
            break;
        }
        if (running < 0 && ready.size) {
            int id;
            heap_pop(&ready, &id);
            Job *j = &jobs[id];
            j->waited += now - j->last_ready;
            if (j->started < 0) j->started = now;
            running = id;
            switches++;
            long slice = j->remaining < QUANTUM ? j->remaining : QUANTUM;
            schedule(&events, now + slice, EV_SLICE_END, id);
        }
    }
    printf("finished=%d at t=%ld busy=%ld util=%ld%% switches=%ld events=%d\n", done, now, busy,
           now ? busy * 100 / now : 0, switches, event_seq);
    static const char *const names[3] = {"interactive", "batch", "background"};
    for (int k = 0; k < 3; ++k)
        printf("%-11s n=%4d avg_wait=%ld max_wait=%ld avg_turnaround=%ld\n", names[k], count[k],
               count[k] ? wait_sum[k] / count[k] : 0, wait_max[k], count[k] ? turnaround[k] / count[k] : 0);
    free(events.items);
    free(ready.items);
    free(jobs);
    return 0;
}
