/* optgym-builtin: Three run-length codecs (byte/count pairs, escape-byte RLE and PackBits-style literal/run packets) round-tripping generated images and text, with compression ratios. Style: pointer-heavy, loop-heavy, switch-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ESC 0xF5u

static size_t rle_pairs_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    uint8_t *o = out;
    const uint8_t *end = in + n;
    while (in < end) {
        uint8_t v = *in;
        const uint8_t *run = in;
        while (run < end && *run == v && run - in < 255) run++;
        *o++ = (uint8_t)(run - in);
        *o++ = v;
        in = run;
    }
    return (size_t)(o - out);
}

static size_t rle_pairs_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    uint8_t *o = out;
    for (const uint8_t *p = in; p + 1 < in + n; p += 2) {
        memset(o, p[1], p[0]);
        o += p[0];
    }
    return (size_t)(o - out);
}

/* runs of 4+ (or any ESC byte) become ESC,count,value; everything else is copied */
static size_t rle_escape_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t run = 1;
        while (i + run < n && in[i + run] == in[i] && run < 255) run++;
        if (run >= 4 || in[i] == ESC) {
            out[o++] = ESC;
            out[o++] = (uint8_t)run;
            out[o++] = in[i];
        } else {
            for (size_t k = 0; k < run; ++k) out[o++] = in[i];
        }
        i += run;
    }
    return o;
}

static size_t rle_escape_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        if (in[i] == ESC && i + 2 < n) {
            for (int k = 0; k < in[i + 1]; ++k) out[o++] = in[i + 2];
            i += 3;
        } else {
            out[o++] = in[i++];
        }
    }
    return o;
}

/* PackBits: header h in [0,127] means h+1 literals follow; h in [129,255] means repeat next byte 257-h times */
static size_t packbits_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t run = 1;
        while (i + run < n && run < 128 && in[i + run] == in[i]) run++;
        if (run >= 3) {
            out[o++] = (uint8_t)(257 - run);
            out[o++] = in[i];
            i += run;
            continue;
        }
        size_t start = i, lit = 0;
        while (i < n && lit < 128) {
            if (i + 2 < n && in[i] == in[i + 1] && in[i] == in[i + 2]) break;
            i++;
            lit++;
        }
        out[o++] = (uint8_t)(lit - 1);
        memcpy(out + o, in + start, lit);
        o += lit;
    }
    return o;
}

static size_t packbits_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    const uint8_t *p = in, *end = in + n;
    uint8_t *o = out;
    while (p < end) {
        uint8_t h = *p++;
        switch (h >> 7) {
        case 0:
            memcpy(o, p, (size_t)h + 1);
            o += h + 1;
            p += h + 1;
            break;
        default:
            if (h == 128) break; /* no-op packet */
            memset(o, *p++, (size_t)(257 - h));
            o += 257 - h;
            break;
        }
    }
    return (size_t)(o - out);
}

static uint32_t rng = 0xA5A5A5A5u;
static uint32_t r32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void make_image(uint8_t *img, int w, int h)
{
    /* flat background with rectangles and a little noise, like a simple bitmap */
    memset(img, 0x20, (size_t)w * (size_t)h);
    for (int r = 0; r < 12; ++r) {
        int x0 = (int)(r32() % (unsigned)w), y0 = (int)(r32() % (unsigned)h);
        int rw = 4 + (int)(r32() % 40u), rh = 2 + (int)(r32() % 20u);
        uint8_t c = (uint8_t)(r32() & 0xFFu);
        for (int y = y0; y < y0 + rh && y < h; ++y)
            for (int x = x0; x < x0 + rw && x < w; ++x) img[y * w + x] = c;
    }
    for (int k = 0; k < w * h / 50; ++k) {
        unsigned at = r32() % (unsigned)(w * h);
        img[at] = (uint8_t)r32();
    }
}

static void make_text(uint8_t *t, size_t n)
{
    static const char src[] = "aaaaabbbcdddddddd    \n\n\n------====  xyz  ";
    for (size_t i = 0; i < n; ++i) t[i] = (uint8_t)src[(i / 3 + (i % 7 == 0 ? r32() % 5u : 0u)) % (sizeof src - 1)];
}

typedef size_t (*Codec)(const uint8_t *, size_t, uint8_t *);

static int roundtrip(const char *name, Codec enc, Codec dec, const uint8_t *in, size_t n, uint8_t *tmp, uint8_t *back,
                     uint32_t *acc)
{
    size_t e = enc(in, n, tmp);
    size_t d = dec(tmp, e, back);
    int ok = d == n && memcmp(in, back, n) == 0;
    for (size_t i = 0; i < e; ++i) *acc = *acc * 31u + tmp[i];
    printf("  %-8s %6zu -> %6zu (%3zu%%) %s\n", name, n, e, e * 100 / (n ? n : 1), ok ? "ok" : "FAIL");
    return ok;
}

int main(void)
{
    enum { W = 160, H = 80, NT = 9000 };
    uint8_t *img = malloc(W * H), *txt = malloc(NT);
    uint8_t *tmp = malloc(3 * NT + 1024), *back = malloc(3 * NT + 1024);
    if (!img || !txt || !tmp || !back) return 1;
    make_image(img, W, H);
    make_text(txt, NT);
    uint32_t acc = 0;
    int ok = 0;
    const uint8_t *inputs[2] = {img, txt};
    size_t lens[2] = {W * H, NT};
    const char *names[2] = {"image", "text"};
    for (int k = 0; k < 2; ++k) {
        printf("%s:\n", names[k]);
        ok += roundtrip("pairs", rle_pairs_encode, rle_pairs_decode, inputs[k], lens[k], tmp, back, &acc);
        ok += roundtrip("escape", rle_escape_encode, rle_escape_decode, inputs[k], lens[k], tmp, back, &acc);
        ok += roundtrip("packbits", packbits_encode, packbits_decode, inputs[k], lens[k], tmp, back, &acc);
    }
    printf("ok=%d/6 acc=%08x\n", ok, (unsigned)acc);
    free(img);
    free(txt);
    free(tmp);
    free(back);
    return 0;
}
