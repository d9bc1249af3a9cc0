/* optgym-builtin: Fixed-point (Q15) radix-2 decimation-in-time FFT with a generated integer sine table, bit-reversal permutation, forward/inverse round trip and spectral peak detection of synthetic signals. Style: numeric, bit-twiddling, loop-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOGN 9
#define NPTS (1 << LOGN)
#define Q 15

typedef struct {
    int32_t re, im;
} Cpx;

static int16_t sin_table[NPTS]; /* sin(2*pi*k/NPTS) in Q15 */

/* integer sine generation by the rotation recurrence in 64-bit fixed point */
static void build_sin_table(void)
{
    /* cos(2pi/N) and sin(2pi/N) in Q30, precomputed constants for N=512 */
    const int64_t c = 1073661210LL, s = 13176464LL;
    int64_t x = 1LL << 30, y = 0;
    for (int k = 0; k < NPTS; ++k) {
        int64_t v = (y + (1LL << 14)) >> 15;
        if (v > 32767) v = 32767;
        if (v < -32767) v = -32767;
        sin_table[k] = (int16_t)v;
        int64_t nx = (x * c - y * s) >> 30;
        int64_t ny = (x * s + y * c) >> 30;
        x = nx;
        y = ny;
    }
}

static int32_t fsin(int k) { return sin_table[k & (NPTS - 1)]; }
static int32_t fcos(int k) { return sin_table[(k + NPTS / 4) & (NPTS - 1)]; }

static unsigned reverse_bits(unsigned v, int bits)
{
    unsigned r = 0;
    for (int i = 0; i < bits; ++i) {
        r = (r << 1) | (v & 1u);
        v >>= 1;
    }
    return r;
}

static void bit_reverse_permute(Cpx *a)
{
    for (unsigned i = 0; i < NPTS; ++i) {
        unsigned j = reverse_bits(i, LOGN);
        if (j > i) {
            Cpx t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}

static int32_t qmul(int32_t a, int32_t b) { return (int32_t)(((int64_t)a * b + (1 << (Q - 1))) >> Q); }

/* the forward transform is unscaled (int32 holds N * 2^15); the inverse halves at
   each stage so that inverse(forward(x)) returns x rather than N*x */
static void fft(Cpx *a, int inverse)
{
    bit_reverse_permute(a);
    for (int len = 2; len <= NPTS; len <<= 1) {
        int step = NPTS / len;
        for (int i = 0; i < NPTS; i += len)
            for (int j = 0; j < len / 2; ++j) {
                int32_t wr = fcos(j * step);
                int32_t wi = inverse ? fsin(j * step) : -fsin(j * step);
                Cpx u = a[i + j], v = a[i + j + len / 2];
                int32_t tr = qmul(v.re, wr) - qmul(v.im, wi);
                int32_t ti = qmul(v.re, wi) + qmul(v.im, wr);
                int sh = inverse ? 1 : 0;
                a[i + j].re = (u.re + tr) >> sh;
                a[i + j].im = (u.im + ti) >> sh;
                a[i + j + len / 2].re = (u.re - tr) >> sh;
                a[i + j + len / 2].im = (u.im - ti) >> sh;
            }
    }
}

static int64_t magnitude_sq(Cpx c) { return (int64_t)c.re * c.re + (int64_t)c.im * c.im; }

static uint32_t isqrt64(uint64_t v)
{
    uint64_t r = 0, bit = 1ULL << 62;
    while (bit > v) bit >>= 2;
    while (bit) {
        if (v >= r + bit) {
            v -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)r;
}

static uint32_t noise = 1u;
static int32_t next_noise(void)
{
    noise = noise * 1103515245u + 12345u;
    return (int32_t)((noise >> 16) & 1023u) - 512;
}

static void make_signal(Cpx *a, int f1, int a1, int f2, int a2, int with_noise)
{
    for (int n = 0; n < NPTS; ++n) {
        int32_t v = (a1 * fsin(f1 * n)) / 4 + (a2 * fcos(f2 * n)) / 4;
        if (with_noise) v += next_noise();
        a[n].re = v;
        a[n].im = 0;
    }
}

static void top_peaks(const Cpx *a, int *bins, uint32_t *mags, int k)
{
    for (int i = 0; i < k; ++i) {
        bins[i] = -1;
        mags[i] = 0;
    }
    for (int b = 1; b < NPTS / 2; ++b) {
        uint32_t m = isqrt64((uint64_t)magnitude_sq(a[b]));
        for (int i = 0; i < k; ++i)
            if (m > mags[i]) {
                for (int j = k - 1; j > i; --j) {
                    mags[j] = mags[j - 1];
                    bins[j] = bins[j - 1];
                }
                mags[i] = m;
                bins[i] = b;
                break;
            }
    }
}

int main(void)
{
    build_sin_table();
    printf("table: sin[0]=%d sin[N/4]=%d sin[N/2]=%d sin[3N/4]=%d sin[N/12]=%d\n", sin_table[0],
           sin_table[NPTS / 4], sin_table[NPTS / 2], sin_table[3 * NPTS / 4], sin_table[NPTS / 12]);
    static Cpx sig[NPTS], orig[NPTS];
    static const int params[4][5] = {{5, 3, 40, 1, 0}, {17, 2, 100, 2, 1}, {64, 1, 65, 1, 1}, {3, 4, 200, 1, 0}};
    for (int t = 0; t < 4; ++t) {
        make_signal(sig, params[t][0], params[t][1], params[t][2], params[t][3], params[t][4]);
        memcpy(orig, sig, sizeof sig);
        fft(sig, 0);
        int bins[3];
        uint32_t mags[3];
        top_peaks(sig, bins, mags, 3);
        Cpx back[NPTS];
        memcpy(back, sig, sizeof sig);
        fft(back, 1);
        int64_t err = 0, energy = 0;
        for (int n = 0; n < NPTS; ++n) {
            int32_t r = back[n].re;
            int32_t d = r - orig[n].re;
            err += d < 0 ? -d : d;
            energy += orig[n].re < 0 ? -orig[n].re : orig[n].re;
        }
        printf("signal %d: peaks %d(%u) %d(%u) %d(%u) dc=%d mean_abs=%lld roundtrip_err=%lld\n", t, bins[0],
               (unsigned)mags[0], bins[1], (unsigned)mags[1], bins[2], (unsigned)mags[2], sig[0].re,
               (long long)(energy / NPTS), (long long)(err / NPTS));
    }
    return 0;
}
