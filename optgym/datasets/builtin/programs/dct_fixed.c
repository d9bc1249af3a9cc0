/* optgym-builtin: 8x8 two-dimensional DCT-II and inverse DCT in Q14 fixed point applied to generated image tiles, with quantisation, zigzag run-length statistics, roundtrip error and PSNR-like measures computed in integers. Style: numeric, loop-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define W 64
#define H 48
#define QB 14

/* cos(k*pi/16) in Q14 for k = 0..31, extended by symmetry at start-up. */
static int32_t costab[32];
static const int32_t cos_first[16] = {16384, 16069, 15137, 13623, 11585, 9102, 6270, 3196,
                                      0,     -3196, -6270, -9102, -11585, -13623, -15137, -16069};

static uint8_t zigzag[64];

/* Quantiser steps grow with frequency; a made-up table, coarser at high frequencies. */
static int quant_step(int u, int v, int quality)
{
    int base = 4 + 3 * (u + v) + (u * v) / 2;
    return base * 50 / quality + 1;
}

static void init_tables(void)
{
    for (int k = 0; k < 16; k++) {
        costab[k] = cos_first[k];
        costab[k + 16] = -cos_first[k];
    }
    /* Zigzag scan order: walk the anti-diagonals alternating direction. */
    int idx = 0;
    for (int s = 0; s < 15; s++) {
        if (s % 2 == 0) {
            for (int y = s < 8 ? s : 7; y >= 0 && s - y < 8; y--)
                zigzag[idx++] = (uint8_t)(y * 8 + (s - y));
        } else {
            for (int x = s < 8 ? s : 7; x >= 0 && s - x < 8; x--)
                zigzag[idx++] = (uint8_t)((s - x) * 8 + x);
        }
    }
}

static int32_t cosine(int x, int u) { return costab[((2 * x + 1) * u) & 31]; }

static int32_t scale_c(int u) { return u == 0 ? 11585 : 16384; } /* 1/sqrt(2) or 1, Q14 */

static int64_t round_shift(int64_t v, int sh)
{
    int64_t half = (int64_t)1 << (sh - 1);
    return v >= 0 ? (v + half) >> sh : -((-v + half) >> sh);
}

/* 1-D DCT on 8 values with a stride; output has 3 extra fraction bits. */
static void dct_1d(const int32_t *in, int stride_in, int32_t *out, int stride_out)
{
    for (int u = 0; u < 8; u++) {
        int64_t s = 0;
        for (int x = 0; x < 8; x++)
            s += (int64_t)in[x * stride_in] * cosine(x, u);
        s = round_shift(s * scale_c(u), QB);
        out[u * stride_out] = (int32_t)round_shift(s, QB - 2); /* times 1/2, keeps 3 extra bits */
    }
}

static void idct_1d(const int32_t *in, int stride_in, int32_t *out, int stride_out)
{
    for (int x = 0; x < 8; x++) {
        int64_t s = 0;
        for (int u = 0; u < 8; u++)
            s += round_shift((int64_t)in[u * stride_in] * scale_c(u), QB) * cosine(x, u);
        out[x * stride_out] = (int32_t)round_shift(s, QB + 1);
    }
}

static void dct_2d(const int32_t *block, int32_t *coef)
{
    int32_t tmp[64];
    for (int y = 0; y < 8; y++)
        dct_1d(block + y * 8, 1, tmp + y * 8, 1);
    for (int x = 0; x < 8; x++)
        dct_1d(tmp + x, 8, coef + x, 8);
    for (int i = 0; i < 64; i++)
        coef[i] = (int32_t)round_shift(coef[i], 6); /* remove the 3+3 extra bits */
}

static void idct_2d(const int32_t *coef, int32_t *block)
{
    int32_t tmp[64];
    for (int x = 0; x < 8; x++)
        idct_1d(coef + x, 8, tmp + x, 8);
    for (int y = 0; y < 8; y++)
        idct_1d(tmp + y * 8, 1, block + y * 8, 1);
}

static uint32_t rs = 1357911u;
static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs % n;
}

static void make_image(uint8_t *img, int kind)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v;
            switch (kind) {
            case 0: v = (x * 4 + y * 2) & 255; break;                              /* gradient */
            case 1: v = ((x / 8 + y / 8) & 1) ? 220 : 30; break;                   /* aligned checkerboard */
            case 2: v = ((x - 3) / 5 + (y - 1) / 7) & 1 ? 200 : 60; break;         /* misaligned edges */
            case 3: v = 128 + (int)rnd(61) - 30; break;                            /* noise */
            default: v = ((x * x + y * y) / 16) & 255; break;                      /* rings */
            }
            img[y * W + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

typedef struct {
    long sq_err_lossless, sq_err_quant;
    int max_err_lossless;
    int zeros, nonzeros, runs, eob_sum;
    uint32_t coef_hash;
} Report;

static void process(const uint8_t *img, int quality, Report *r)
{
    memset(r, 0, sizeof *r);
    r->coef_hash = 2166136261u;
    for (int by = 0; by < H; by += 8)
        for (int bx = 0; bx < W; bx += 8) {
            int32_t block[64], coef[64], q[64], back[64];
            for (int i = 0; i < 64; i++)
                block[i] = img[(by + i / 8) * W + bx + i % 8] - 128;
            dct_2d(block, coef);
            idct_2d(coef, back);
            for (int i = 0; i < 64; i++) {
                int e = back[i] - block[i];
                r->sq_err_lossless += (long)e * e;
                if (abs(e) > r->max_err_lossless)
                    r->max_err_lossless = abs(e);
            }
            int last_nz = -1, run = 0;
            for (int k = 0; k < 64; k++) {
                int i = zigzag[k];
                int step = quant_step(i % 8, i / 8, quality);
                int32_t c = coef[i];
                q[i] = c >= 0 ? (c + step / 2) / step : -((-c + step / 2) / step);
                r->coef_hash = (r->coef_hash ^ (uint32_t)q[i]) * 16777619u;
                if (q[i] == 0) {
                    r->zeros++;
                    run++;
                } else {
                    r->nonzeros++;
                    if (run)
                        r->runs++;
                    run = 0;
                    last_nz = k;
                }
            }
            r->eob_sum += last_nz + 1;
            for (int i = 0; i < 64; i++)
                q[i] *= quant_step(i % 8, i / 8, quality);
            idct_2d(q, back);
            for (int i = 0; i < 64; i++) {
                int v = back[i] + 128;
                v = v < 0 ? 0 : v > 255 ? 255 : v;
                int e = v - (block[i] + 128);
                r->sq_err_quant += (long)e * e;
            }
        }
}

/* 10*log10(255^2 / mse) in hundredths, from an integer log2 approximation. */
static int psnr_x100(long sq_err, int pixels)
{
    if (sq_err == 0)
        return 9999;
    /* log10(x) = log2(x) * 0.30103; compute log2 in Q16 by normalisation and a square-and-compare loop. */
    uint64_t num = (uint64_t)65025 * (uint64_t)pixels * 65536u, den = (uint64_t)sq_err * 65536u;
    uint64_t ratio = num / den * 65536u + (num % den) * 65536u / den; /* Q16 */
    int64_t ip = 0;
    while (ratio >= (2u << 16)) {
        ratio >>= 1;
        ip++;
    }
    int64_t frac = 0;
    for (int b = 15; b >= 0; b--) {
        ratio = (ratio * ratio) >> 16;
        if (ratio >= (2u << 16)) {
            ratio >>= 1;
            frac |= (int64_t)1 << b;
        }
    }
    int64_t log2_q16 = (ip << 16) + frac;
    return (int)(log2_q16 * 3010 / 65536 / 10);
}

int main(void)
{
    static uint8_t img[W * H];
    static const char *names[] = {"gradient", "checker", "edges", "noise", "rings"};
    init_tables();
    printf("zigzag head:");
    for (int k = 0; k < 12; k++)
        printf(" %d", zigzag[k]);
    printf("\n");
    for (int kind = 0; kind < 5; kind++) {
        make_image(img, kind);
        for (int quality = 25; quality <= 100; quality += 75) {
            Report r;
            process(img, quality, &r);
            printf("%-8s q=%3d lossless_err=%ld max=%d quant_err=%ld psnr=%d.%02d nz=%d runs=%d eob=%d hash=%08x\n",
                   names[kind], quality, r.sq_err_lossless, r.max_err_lossless, r.sq_err_quant,
                   psnr_x100(r.sq_err_quant, W * H) / 100, psnr_x100(r.sq_err_quant, W * H) % 100, r.nonzeros,
                   r.runs, r.eob_sum, (unsigned)r.coef_hash);
        }
    }
    return 0;
}
