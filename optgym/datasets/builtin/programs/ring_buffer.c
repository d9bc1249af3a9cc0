/* optgym-builtin: A power-of-two ring buffer with batched reads and writes used in a simulated multi-producer multi-consumer pipeline with back-pressure, sequence checking and per-stage throughput counters. Style: pointer-heavy, bit-twiddling, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t seq;
    uint16_t producer;
    uint16_t len;
    uint32_t payload;
} Msg;

typedef struct {
    Msg *buf;
    uint32_t mask;
    uint32_t head; /* next write, free-running */
    uint32_t tail; /* next read, free-running */
    unsigned long full_stalls, empty_stalls, high_water;
} Ring;

static int ring_init(Ring *r, uint32_t cap_pow2)
{
    r->buf = malloc(sizeof(Msg) * cap_pow2);
    r->mask = cap_pow2 - 1;
    r->head = r->tail = 0;
    r->full_stalls = r->empty_stalls = r->high_water = 0;
    return r->buf != NULL;
}

static uint32_t ring_used(const Ring *r) { return r->head - r->tail; } /* wraps correctly in unsigned */
static uint32_t ring_free(const Ring *r) { return r->mask + 1 - ring_used(r); }

static uint32_t ring_write(Ring *r, const Msg *src, uint32_t n)
{
    uint32_t room = ring_free(r);
    if (room == 0) {
        r->full_stalls++;
        return 0;
    }
    if (n > room) n = room;
    uint32_t start = r->head & r->mask;
    uint32_t first = r->mask + 1 - start;
    if (first > n) first = n;
    memcpy(&r->buf[start], src, first * sizeof(Msg));
    memcpy(&r->buf[0], src + first, (n - first) * sizeof(Msg));
    r->head += n;
    if (ring_used(r) > r->high_water) r->high_water = ring_used(r);
    return n;
}

static uint32_t ring_read(Ring *r, Msg *dst, uint32_t n)
{
    uint32_t avail = ring_used(r);
    if (avail == 0) {
        r->empty_stalls++;
        return 0;
    }
    if (n > avail) n = avail;
    uint32_t start = r->tail & r->mask;
    uint32_t first = r->mask + 1 - start;
    if (first > n) first = n;
    memcpy(dst, &r->buf[start], first * sizeof(Msg));
    memcpy(dst + first, &r->buf[0], (n - first) * sizeof(Msg));
    r->tail += n;
    return n;
}

#define NPROD 3
#define NCONS 2

typedef struct {
    uint32_t next_seq;
    uint32_t rng;
    Msg pending[16];
    uint32_t npending;
    unsigned long produced;
} Producer;

typedef struct {
    uint32_t expect[NPROD];
    unsigned long consumed, out_of_order;
    uint32_t checksum;
    uint32_t rng;
} Consumer;

static uint32_t step_rng(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static uint32_t payload_for(uint32_t producer, uint32_t seq) { return (seq * 2654435761u) ^ (producer << 28); }

static void produce(Producer *p, int id, Ring *r)
{
    if (p->npending == 0) {
        uint32_t burst = 1 + step_rng(&p->rng) % 16u;
        for (uint32_t i = 0; i < burst; ++i) {
            Msg *m = &p->pending[i];
            m->seq = p->next_seq++;
            m->producer = (uint16_t)id;
            m->len = (uint16_t)(step_rng(&p->rng) & 0x3FFu);
            m->payload = payload_for((uint32_t)id, m->seq);
        }
        p->npending = burst;
    }
    uint32_t w = ring_write(r, p->pending, p->npending);
    /* keep the unsent tail for the next attempt (back-pressure) */
    memmove(p->pending, p->pending + w, (p->npending - w) * sizeof(Msg));
    p->npending -= w;
    p->produced += w;
}

static void consume(Consumer *c, Ring *r, uint32_t *shared_expect)
{
    Msg batch[12];
    uint32_t want = 1 + step_rng(&c->rng) % 12u;
    uint32_t got = ring_read(r, batch, want);
    for (uint32_t i = 0; i < got; ++i) {
        const Msg *m = &batch[i];
        if (m->seq != shared_expect[m->producer] || m->payload != payload_for(m->producer, m->seq))
            c->out_of_order++;
        shared_expect[m->producer] = m->seq + 1;
        c->checksum = (c->checksum << 5 | c->checksum >> 27) ^ m->payload ^ m->len;
        c->consumed++;
    }
}

int main(void)
{
    Ring r;
    if (!ring_init(&r, 64)) return 1;
    /* start near the 32-bit wrap so index arithmetic overflow is exercised */
    r.head = r.tail = 0xFFFFFF00u;
    Producer prod[NPROD];
    Consumer cons[NCONS];
    uint32_t expect[NPROD] = {0};
    memset(prod, 0, sizeof prod);
    memset(cons, 0, sizeof cons);
    for (int i = 0; i < NPROD; ++i) prod[i].rng = 0x1234u + (uint32_t)i * 977u;
    for (int i = 0; i < NCONS; ++i) cons[i].rng = 0xABCDu + (uint32_t)i * 131u;
    uint32_t sched = 42u;
    for (int tick = 0; tick < 20000; ++tick) {
        uint32_t x = step_rng(&sched);
        /* the scheduler favours producers early and consumers late, to fill then drain */
        int favour_prod = tick < 10000 ? (x % 10u) < 6u : (x % 10u) < 3u;
        if (favour_prod) {
            int id = (int)((x >> 8) % NPROD);
            produce(&prod[id], id, &r);
        } else {
            int id = (int)((x >> 8) % NCONS);
            consume(&cons[id], &r, expect);
        }
    }
    while (ring_used(&r)) consume(&cons[0], &r, expect);
    unsigned long total_p = 0, total_c = 0, bad = 0;
    uint32_t acc = 0;
    for (int i = 0; i < NPROD; ++i) {
        total_p += prod[i].produced;
        printf("producer %d: produced=%lu pending=%u\n", i, prod[i].produced, (unsigned)prod[i].npending);
    }
    for (int i = 0; i < NCONS; ++i) {
        total_c += cons[i].consumed;
        bad += cons[i].out_of_order;
        acc ^= cons[i].checksum;
        printf("consumer %d: consumed=%lu checksum=%08x\n", i, cons[i].consumed, (unsigned)cons[i].checksum);
    }
    printf("total produced=%lu consumed=%lu bad=%lu full_stalls=%lu empty_stalls=%lu high_water=%lu head=%08x acc=%08x\n",
           total_p, total_c, bad, r.full_stalls, r.empty_stalls, r.high_water, (unsigned)r.head, (unsigned)acc);
    free(r.buf);
    return 0;
}
