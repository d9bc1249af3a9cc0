/* optgym-builtin: Cascades of Q14 fixed-point biquad IIR sections (low-pass, high-pass, peaking, notch) in direct forms I and II-transposed, driven by impulses, steps, chirps and noise. Style: numeric, struct-heavy, loop-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define QBITS 14
#define NSAMP 3000
#define MAXSECT 4

typedef struct {
    int32_t b0, b1, b2, a1, a2; /* Q14, a0 normalised to 1 */
} Coeffs;

typedef struct {
    Coeffs c;
    int32_t x1, x2, y1, y2; /* direct form I history */
    int64_t s1, s2;         /* transposed direct form II state (Q14-scaled) */
} Biquad;

typedef struct {
    const char *name;
    int nsect;
    Biquad sect[MAXSECT];
    int64_t peak;
    uint32_t sat;
} Cascade;

static const Coeffs designs[] = {
    {329, 658, 329, -25575, 10507},        /* low-pass 0.05 fs */
    {844, 1688, 844, -23914, 10906},       /* low-pass 0.08 fs, Q 1.2 */
    {14991, -29981, 14991, -29863, 13716}, /* high-pass 0.02 fs */
    {17921, -24012, 11760, -24012, 13296}, /* peaking +6 dB */
    {13100, -6057, 6501, -6057, 3218},     /* peaking -6 dB */
    {15158, -17819, 15158, -17819, 13931}, /* notch 0.15 fs */
    {1359, 2718, 1359, -14620, 3672},      /* low-pass 0.12 fs */
    {13125, -26249, 13125, -25294, 10820}, /* high-pass 0.06 fs */
};

static uint32_t rng = 0xC0FFEEu;

static uint32_t rand_u32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int32_t clamp16(int64_t v, uint32_t *sat)
{
    if (v > 32767) {
        ++*sat;
        return 32767;
    }
    if (v < -32768) {
        ++*sat;
        return -32768;
    }
    return (int32_t)v;
}

static int64_t round_shift(int64_t v)
{
    return (v + (1 << (QBITS - 1))) >> QBITS;
}

static void biquad_init(Biquad *b, const Coeffs *c)
{
    memset(b, 0, sizeof *b);
    b->c = *c;
}

static int32_t biquad_df1(Biquad *b, int32_t x, uint32_t *sat)
{
    const Coeffs *c = &b->c;
    int64_t acc = (int64_t)c->b0 * x + (int64_t)c->b1 * b->x1 + (int64_t)c->b2 * b->x2 - (int64_t)c->a1 * b->y1 -
                  (int64_t)c->a2 * b->y2;
    int32_t y = clamp16(round_shift(acc), sat);
    b->x2 = b->x1;
    b->x1 = x;
    b->y2 = b->y1;
    b->y1 = y;
    return y;
}

static int32_t biquad_df2t(Biquad *b, int32_t x, uint32_t *sat)
{
    const Coeffs *c = &b->c;
    int64_t yq = (int64_t)c->b0 * x + b->s1;
    int32_t y = clamp16(round_shift(yq), sat);
    b->s1 = (int64_t)c->b1 * x - (int64_t)c->a1 * y + b->s2;
    b->s2 = (int64_t)c->b2 * x - (int64_t)c->a2 * y;
    return y;
}

static void cascade_init(Cascade *cs, const char *name, const int *which, int n)
{
    cs->name = name;
    cs->nsect = n;
    cs->peak = 0;
    cs->sat = 0;
    for (int i = 0; i < n; i++)
        biquad_init(&cs->sect[i], &designs[which[i]]);
}

static int32_t cascade_run(Cascade *cs, int32_t x, int transposed)
{
    int32_t v = x;
    for (Biquad *b = cs->sect; b < cs->sect + cs->nsect; b++)
        v = transposed ? biquad_df2t(b, v, &cs->sat) : biquad_df1(b, v, &cs->sat);
    int64_t a = v < 0 ? -(int64_t)v : v;
    if (a > cs->peak)
        cs->peak = a;
    return v;
}

enum { SIG_IMPULSE, SIG_STEP, SIG_CHIRP, SIG_NOISE, SIG_SQUARE, SIG_COUNT };

static int32_t tri_wave(uint32_t phase)
{
    /* Triangle wave in [-16384, 16384] from a 32-bit phase. */
    uint32_t p = phase >> 16;
    int32_t v = p < 32768u ? (int32_t)p - 16384 : 49151 - (int32_t)p;
    return v;
}

static void gen_signal(int kind, int32_t *out, int n)
{
    uint32_t phase = 0, inc = 0x00200000u;
    for (int i = 0; i < n; i++) {
        switch (kind) {
        case SIG_IMPULSE:
            out[i] = i == 0 ? 20000 : 0;
            break;
        case SIG_STEP:
            out[i] = i < 100 ? 0 : 12000;
            break;
        case SIG_CHIRP:
            out[i] = tri_wave(phase);
            phase += inc;
            inc += 0x00002000u;
            break;
        case SIG_NOISE:
            out[i] = (int32_t)(rand_u32() % 24001u) - 12000;
            break;
        default:
            out[i] = ((i / 37) & 1) ? 9000 : -9000;
            break;
        }
    }
}

static uint32_t mix_hash(uint32_t h, int32_t v)
{
    h ^= (uint32_t)v + 0x9e3779b9u + (h << 6) + (h >> 2);
    return h;
}

static int settle_index(const int32_t *y, int n, int32_t tol)
{
    int last = 0;
    for (int i = 1; i < n; i++) {
        int32_t d = y[i] - y[i - 1];
        if (d > tol || d < -tol)
            last = i;
    }
    return last;
}

int main(void)
{
    static int32_t in[NSAMP], out1[NSAMP], out2[NSAMP];
    static const int chainA[] = {0, 1};
    static const int chainB[] = {2, 7, 3};
    static const int chainC[] = {5, 4, 6, 3};
    static const int chainD[] = {6, 2};
    struct {
        const char *name;
        const int *which;
        int n;
    } chains[] = {{"lowpass4", chainA, 2}, {"hp_peak", chainB, 3}, {"notchmix", chainC, 4}, {"bandish", chainD, 2}};
    static const char *signames[SIG_COUNT] = {"impulse", "step", "chirp", "noise", "square"};
    uint32_t grand = 0;

    for (int s = 0; s < SIG_COUNT; s++) {
        gen_signal(s, in, NSAMP);
        for (size_t c = 0; c < sizeof chains / sizeof chains[0]; c++) {
            Cascade a, b;
            cascade_init(&a, chains[c].name, chains[c].which, chains[c].n);
            cascade_init(&b, chains[c].name, chains[c].which, chains[c].n);
            uint32_t h1 = 17, h2 = 17;
            int64_t maxdiff = 0;
            for (int i = 0; i < NSAMP; i++) {
                out1[i] = cascade_run(&a, in[i], 0);
                out2[i] = cascade_run(&b, in[i], 1);
                h1 = mix_hash(h1, out1[i]);
                h2 = mix_hash(h2, out2[i]);
                int64_t d = (int64_t)out1[i] - out2[i];
                if (d < 0)
                    d = -d;
                if (d > maxdiff)
                    maxdiff = d;
            }
            printf("%-7s %-8s df1=%08x df2t=%08x peak=%lld sat=%u/%u maxdiff=%lld settle=%d\n", signames[s], a.name,
                   (unsigned)h1, (unsigned)h2, (long long)a.peak, (unsigned)a.sat, (unsigned)b.sat,
                   (long long)maxdiff, settle_index(out1, NSAMP, 2));
            grand = mix_hash(grand, (int32_t)(h1 ^ h2));
        }
    }
    printf("grand=%08x\n", (unsigned)grand);
    return 0;
}
