/* optgym-builtin: Bank of Q15 fixed-point FIR filters (windowed low-pass, high-pass, band-pass, moving average) run over generated multi-tone signals with saturation and energy metering. Style: loop-heavy, numeric, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NTAPS 31
#define NSAMPLES 4096
#define NFILTERS 4
#define Q15_ONE 32768

typedef struct {
    const char *name;
    int16_t taps[NTAPS];
    int16_t delay[NTAPS];
    int pos;
    uint32_t clips;
} Fir;

static uint32_t lcg_state = 12345u;

static uint32_t lcg_next(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

/* Quarter-wave sine table in Q15, built by a recurrence so no libm is needed. */
static int32_t sine_table[256];

static void build_sine_table(void)
{
    /* Chebyshev recurrence s[n+1] = 2cos(w)s[n] - s[n-1] in Q30, w = 2*pi/256, rounded to Q15. */
    int64_t c2 = 2146836866; /* 2*cos(2*pi/256) in Q30 */
    int64_t s0 = 0, s1 = 26350943; /* sin(2*pi/256) in Q30 */
    sine_table[0] = 0;
    sine_table[1] = (int32_t)((s1 + (1 << 14)) >> 15);
    for (int i = 2; i < 256; i++) {
        int64_t s2 = ((c2 * s1 + (1 << 29)) >> 30) - s0;
        sine_table[i] = (int32_t)((s2 + (1 << 14)) >> 15);
        s0 = s1;
        s1 = s2;
    }
}

static int32_t sine_q15(uint32_t phase)
{
    return sine_table[(phase >> 24) & 255u];
}

static int16_t saturate16(int32_t v, uint32_t *clips)
{
    if (v > 32767) {
        (*clips)++;
        return 32767;
    }
    if (v < -32768) {
        (*clips)++;
        return -32768;
    }
    return (int16_t)v;
}

static int32_t hamming_q15(int i, int n)
{
    /* 0.54 - 0.46 cos(2 pi i / (n-1)), cosine from the table at quarter offset. */
    uint32_t phase = (uint32_t)(((uint64_t)i << 32) / (uint64_t)(n - 1));
    int32_t c = sine_q15(phase + 0x40000000u);
    return 17695 - (int32_t)((15073 * (int64_t)c) >> 15);
}

static int32_t sinc_q15(int k, uint32_t cutoff_phase)
{
    /* sin(wc k) / (pi k) approximated with the sine table and an integer divide. */
    if (k == 0)
        return (int32_t)(((uint64_t)cutoff_phase * 2u * Q15_ONE) >> 32);
    int32_t s = sine_q15(cutoff_phase * (uint32_t)(k < 0 ? -k : k));
    int32_t d = (k < 0 ? -k : k) * 314159 / 100000;
    int32_t v = s / (d == 0 ? 1 : d);
    return v;
}

static void design_lowpass(Fir *f, uint32_t cutoff_phase)
{
    int mid = NTAPS / 2;
    int64_t sum = 0;
    int32_t raw[NTAPS];
    for (int i = 0; i < NTAPS; i++) {
        int32_t s = sinc_q15(i - mid, cutoff_phase);
        raw[i] = (int32_t)(((int64_t)s * hamming_q15(i, NTAPS)) >> 15);
        sum += raw[i];
    }
    if (sum == 0)
        sum = 1;
    for (int i = 0; i < NTAPS; i++)
        f->taps[i] = (int16_t)(((int64_t)raw[i] * 30000) / sum);
}

static void spectral_invert(Fir *f)
{
    for (int i = 0; i < NTAPS; i++)
        f->taps[i] = (int16_t)(-f->taps[i]);
    f->taps[NTAPS / 2] = (int16_t)(f->taps[NTAPS / 2] + 30000);
}

static void design_bandpass(Fir *f, uint32_t lo, uint32_t hi)
{
    Fir a, b;
    design_lowpass(&a, hi);
    design_lowpass(&b, lo);
    for (int i = 0; i < NTAPS; i++)
        f->taps[i] = (int16_t)(a.taps[i] - b.taps[i]);
}

static void design_average(Fir *f)
{
    for (int i = 0; i < NTAPS; i++)
        f->taps[i] = (int16_t)(30000 / NTAPS);
}

static void fir_reset(Fir *f, const char *name)
{
    f->name = name;
    memset(f->delay, 0, sizeof f->delay);
    f->pos = 0;
    f->clips = 0;
}

static int16_t fir_step(Fir *f, int16_t x)
{
    f->delay[f->pos] = x;
    int64_t acc = 0;
    int idx = f->pos;
    for (int i = 0; i < NTAPS; i++) {
        acc += (int32_t)f->taps[i] * (int32_t)f->delay[idx];
        idx = idx == 0 ? NTAPS - 1 : idx - 1;
    }
    f->pos = (f->pos + 1) % NTAPS;
    return saturate16((int32_t)((acc + (1 << 14)) >> 15), &f->clips);
}

static void make_signal(int16_t *out, int n, const uint32_t *freqs, const int32_t *amps, int ntones, int noise)
{
    uint32_t phases[8] = {0};
    for (int i = 0; i < n; i++) {
        int32_t v = 0;
        for (int t = 0; t < ntones; t++) {
            v += (int32_t)(((int64_t)sine_q15(phases[t]) * amps[t]) >> 15);
            phases[t] += freqs[t];
        }
        if (noise)
            v += (int32_t)(lcg_next() % (uint32_t)(2 * noise + 1)) - noise;
        uint32_t dummy = 0;
        out[i] = saturate16(v, &dummy);
    }
}

static uint64_t energy(const int16_t *x, int n)
{
    uint64_t e = 0;
    for (int i = 0; i < n; i++)
        e += (uint64_t)((int64_t)x[i] * x[i]);
    return e;
}

static uint32_t checksum16(const int16_t *x, int n)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++) {
        h ^= (uint16_t)x[i];
        h *= 16777619u;
    }
    return h;
}

int main(void)
{
    static int16_t input[NSAMPLES];
    static int16_t output[NSAMPLES];
    Fir bank[NFILTERS];
    static const char *names[NFILTERS] = {"lowpass", "highpass", "bandpass", "average"};
    uint32_t total = 0;

    build_sine_table();
    printf("sine check: %d %d %d\n", (int)sine_table[64], (int)sine_table[128], (int)sine_table[192]);

    for (int k = 0; k < NFILTERS; k++)
        fir_reset(&bank[k], names[k]);
    design_lowpass(&bank[0], 0x10000000u);
    design_lowpass(&bank[1], 0x18000000u);
    spectral_invert(&bank[1]);
    design_bandpass(&bank[2], 0x0c000000u, 0x28000000u);
    design_average(&bank[3]);

    for (int sig = 0; sig < 3; sig++) {
        uint32_t freqs[4] = {0x01000000u * (uint32_t)(sig + 1), 0x06000000u, 0x20000000u + 0x01000000u * (uint32_t)sig, 0x3a000000u};
        int32_t amps[4] = {9000, 7000, 6000, 4000 + 2000 * sig};
        make_signal(input, NSAMPLES, freqs, amps, 4, 300 * sig);
        uint64_t ein = energy(input, NSAMPLES);
        for (int k = 0; k < NFILTERS; k++) {
            Fir *f = &bank[k];
            fir_reset(f, names[k]);
            for (int i = 0; i < NSAMPLES; i++)
                output[i] = fir_step(f, input[i]);
            uint64_t eout = energy(output, NSAMPLES);
            uint32_t cs = checksum16(output, NSAMPLES);
            unsigned ratio = (unsigned)((eout * 1000u) / (ein ? ein : 1u));
            printf("signal %d %-8s gain=%u.%03u clips=%u sum=%08x\n", sig, f->name, ratio / 1000, ratio % 1000,
                   (unsigned)f->clips, (unsigned)cs);
            total = (total * 31u) ^ cs;
        }
    }
    int32_t tapsum = 0;
    for (int k = 0; k < NFILTERS; k++)
        for (int i = 0; i < NTAPS; i++)
            tapsum += bank[k].taps[i] * (i + 1);
    printf("tapsum=%d total=%08x\n", (int)tapsum, (unsigned)total);
    return 0;
}
