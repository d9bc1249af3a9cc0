/* optgym-builtin: Event-driven simulation of a two-way traffic intersection controller with pedestrian calls, vehicle detectors, emergency preemption and fault flashing, using a timed event queue and a switch-based state machine. Style: switch-heavy, struct-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    ST_NS_GREEN,
    ST_NS_YELLOW,
    ST_ALL_RED_1,
    ST_EW_GREEN,
    ST_EW_YELLOW,
    ST_ALL_RED_2,
    ST_PED_WALK,
    ST_PED_CLEAR,
    ST_PREEMPT,
    ST_FLASH,
    NSTATES
} State;

typedef enum { EV_TIMER, EV_CAR_NS, EV_CAR_EW, EV_PED, EV_EMERGENCY, EV_EMERGENCY_CLEAR, EV_FAULT, EV_REPAIR, NEVENTS } EvKind;

static const char *state_names[NSTATES] = {"NS_GREEN", "NS_YELLOW", "ALL_RED_1", "EW_GREEN", "EW_YELLOW",
                                           "ALL_RED_2", "PED_WALK", "PED_CLEAR", "PREEMPT", "FLASH"};

typedef struct {
    uint32_t time;
    uint32_t seq;
    EvKind kind;
    uint32_t token; /* timers carry the controller's generation so stale ones are ignored */
} Event;

#define QCAP 4096

typedef struct {
    Event heap[QCAP];
    int n;
    uint32_t seq;
} Queue;

typedef struct {
    State state;
    uint32_t now;
    uint32_t entered;
    uint32_t timer_token;
    int ped_waiting;
    int queue_ns, queue_ew;
    int emergency;
    State resume;
    uint32_t time_in[NSTATES];
    uint32_t transitions;
    uint32_t served_ns, served_ew, peds_served;
    uint32_t max_queue_ns, max_queue_ew;
    uint32_t ignored_timers;
    uint32_t trace_hash;
} Ctl;

static int ev_less(const Event *a, const Event *b)
{
    if (a->time != b->time)
        return a->time < b->time;
    return a->seq < b->seq;
}

static void q_push(Queue *q, uint32_t time, EvKind kind, uint32_t token)
{
    if (q->n >= QCAP)
        return;
    Event e = {time, q->seq++, kind, token};
    int i = q->n++;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!ev_less(&e, &q->heap[p]))
            break;
        q->heap[i] = q->heap[p];
        i = p;
    }
    q->heap[i] = e;
}

static Event q_pop(Queue *q)
{
    Event top = q->heap[0];
    Event last = q->heap[--q->n];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        const Event *best = &last;
        if (l < q->n && ev_less(&q->heap[l], best)) {
            m = l;
            best = &q->heap[l];
        }
        if (r < q->n && ev_less(&q->heap[r], best))
            m = r;
        if (m == i)
            break;
        q->heap[i] = q->heap[m];
        i = m;
    }
    if (q->n > 0)
        q->heap[i] = last;
    return top;
}

static uint32_t duration(State s, const Ctl *c)
{
    switch (s) {
    case ST_NS_GREEN: return c->queue_ew > 6 ? 20 : 35;
    case ST_EW_GREEN: return c->queue_ns > 6 ? 15 : 25;
    case ST_NS_YELLOW:
    case ST_EW_YELLOW: return 4;
    case ST_ALL_RED_1:
    case ST_ALL_RED_2: return 2;
    case ST_PED_WALK: return 10;
    case ST_PED_CLEAR: return 6;
    case ST_PREEMPT: return 0; /* held until cleared */
    case ST_FLASH: return 0;
    default: return 1;
    }
}

static void enter(Ctl *c, Queue *q, State s)
{
    c->time_in[c->state] += c->now - c->entered;
    c->state = s;
    c->entered = c->now;
    c->transitions++;
    c->timer_token++;
    c->trace_hash = (c->trace_hash ^ ((uint32_t)s * 2654435761u) ^ c->now) * 16777619u;
    uint32_t d = duration(s, c);
    if (d)
        q_push(q, c->now + d, EV_TIMER, c->timer_token);
}

static void discharge(Ctl *c)
{
    /* Two lanes, each discharging about one car per two seconds of green. */
    uint32_t green = c->now - c->entered;
    if (c->state == ST_NS_GREEN) {
        int n = (int)green;
        if (n > c->queue_ns)
            n = c->queue_ns;
        c->queue_ns -= n;
        c->served_ns += (uint32_t)n;
    } else if (c->state == ST_EW_GREEN) {
        int n = (int)green;
        if (n > c->queue_ew)
            n = c->queue_ew;
        c->queue_ew -= n;
        c->served_ew += (uint32_t)n;
    }
}

static State after_timer(Ctl *c)
{
    switch (c->state) {
    case ST_NS_GREEN: return ST_NS_YELLOW;
    case ST_NS_YELLOW: return ST_ALL_RED_1;
    case ST_ALL_RED_1: return c->ped_waiting ? ST_PED_WALK : ST_EW_GREEN;
    case ST_EW_GREEN: return ST_EW_YELLOW;
    case ST_EW_YELLOW: return ST_ALL_RED_2;
    case ST_ALL_RED_2: return ST_NS_GREEN;
    case ST_PED_WALK: return ST_PED_CLEAR;
    case ST_PED_CLEAR: return ST_EW_GREEN;
    default: return c->state;
    }
}

static void handle(Ctl *c, Queue *q, const Event *e)
{
    switch (e->kind) {
    case EV_TIMER:
        if (e->token != c->timer_token) {
            c->ignored_timers++;
            break;
        }
        discharge(c);
        if (c->state == ST_PED_WALK) {
            c->peds_served++;
            c->ped_waiting = 0;
        }
        enter(c, q, after_timer(c));
        break;
    case EV_CAR_NS:
        c->queue_ns++;
        if ((uint32_t)c->queue_ns > c->max_queue_ns)
            c->max_queue_ns = (uint32_t)c->queue_ns;
        break;
    case EV_CAR_EW:
        c->queue_ew++;
        if ((uint32_t)c->queue_ew > c->max_queue_ew)
            c->max_queue_ew = (uint32_t)c->queue_ew;
        break;
    case EV_PED:
        c->ped_waiting = 1;
        break;
    case EV_EMERGENCY:
        if (c->state != ST_FLASH && c->state != ST_PREEMPT) {
            discharge(c);
            c->resume = ST_ALL_RED_2;
            c->emergency = 1;
            enter(c, q, ST_PREEMPT);
        }
        break;
    case EV_EMERGENCY_CLEAR:
        if (c->state == ST_PREEMPT) {
            c->emergency = 0;
            enter(c, q, c->resume);
        }
        break;
    case EV_FAULT:
        if (c->state != ST_FLASH) {
            discharge(c);
            enter(c, q, ST_FLASH);
        }
        break;
    case EV_REPAIR:
        if (c->state == ST_FLASH)
            enter(c, q, ST_ALL_RED_2);
        break;
    default:
        break;
    }
}

static uint32_t rs = 5150u;
static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs % n;
}

static void schedule_arrivals(Queue *q, uint32_t horizon)
{
    for (uint32_t t = 0; t < horizon; t += 1 + rnd(5))
        q_push(q, t, EV_CAR_NS, 0);
    for (uint32_t t = 0; t < horizon; t += 2 + rnd(8))
        q_push(q, t, EV_CAR_EW, 0);
    for (uint32_t t = 30; t < horizon; t += 40 + rnd(120))
        q_push(q, t, EV_PED, 0);
    for (uint32_t t = 500; t < horizon; t += 700 + rnd(900)) {
        q_push(q, t, EV_EMERGENCY, 0);
        q_push(q, t + 20 + rnd(30), EV_EMERGENCY_CLEAR, 0);
    }
    q_push(q, horizon / 2, EV_FAULT, 0);
    q_push(q, horizon / 2 + 90, EV_REPAIR, 0);
}

int main(void)
{
    static Queue q;
    Ctl c;
    memset(&c, 0, sizeof c);
    c.trace_hash = 2166136261u;
    uint32_t horizon = 7200;
    uint32_t counts[NEVENTS] = {0};
    schedule_arrivals(&q, horizon);
    c.state = ST_ALL_RED_2;
    enter(&c, &q, ST_NS_GREEN);
    uint32_t processed = 0;
    while (q.n > 0) {
        Event e = q_pop(&q);
        if (e.time > horizon)
            break;
        c.now = e.time;
        counts[e.kind]++;
        handle(&c, &q, &e);
        processed++;
    }
    c.now = horizon;
    c.time_in[c.state] += c.now - c.entered;

    printf("events=%u transitions=%u ignored_timers=%u final=%s\n", processed, c.transitions, c.ignored_timers,
           state_names[c.state]);
    printf("served ns=%u ew=%u peds=%u waiting ns=%d ew=%d max ns=%u ew=%u\n", c.served_ns, c.served_ew,
           c.peds_served, c.queue_ns, c.queue_ew, c.max_queue_ns, c.max_queue_ew);
    uint32_t total = 0;
    for (int s = 0; s < NSTATES; s++) {
        printf("%-10s %5u s\n", state_names[s], c.time_in[s]);
        total += c.time_in[s];
    }
    printf("event kinds:");
    for (int k = 0; k < NEVENTS; k++)
        printf(" %u", counts[k]);
    printf("\ntotal=%u trace=%08x\n", total, (unsigned)c.trace_hash);
    return 0;
}
