/* optgym-builtin: Mandelbrot and Julia set rendering in Q24 fixed-point with escape-time histograms, cardioid/bulb early-out, periodicity checking and an ASCII thumbnail. Style: numeric, loop-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FRAC 24
#define ONE ((int64_t)1 << FRAC)
#define MAXIT 256

typedef int64_t fx;

typedef struct {
    fx x0, y0, x1, y1;
    int w, h;
    int maxit;
} View;

typedef struct {
    uint32_t hist[17];
    uint64_t iter_sum;
    uint32_t inside;
    uint32_t early;
    uint32_t periodic;
    uint32_t hash;
} Stats;

static fx fx_from_milli(int m) { return (fx)m * ONE / 1000; }

static fx fx_mul(fx a, fx b) { return (a * b) / ONE; }

static fx fx_sq(fx a) { return fx_mul(a, a); }

static int escaped(fx zr2, fx zi2) { return zr2 + zi2 > 4 * ONE; }

/* Points in the main cardioid or the period-2 bulb never escape. */
static int in_main_regions(fx cr, fx ci)
{
    fx ci2 = fx_sq(ci);
    fx xq = cr - ONE / 4;
    fx q = fx_sq(xq) + ci2;
    if (fx_mul(q, q + xq) * 4 < ci2)
        return 1;
    fx xb = cr + ONE;
    if (16 * (fx_sq(xb) + ci2) < ONE)
        return 1;
    return 0;
}

static int iterate(fx zr, fx zi, fx cr, fx ci, int maxit, Stats *st)
{
    fx pr = zr, pi = zi;
    int period = 0, check = 8;
    for (int i = 0; i < maxit; i++) {
        fx zr2 = fx_sq(zr), zi2 = fx_sq(zi);
        if (escaped(zr2, zi2))
            return i;
        fx nzi = 2 * fx_mul(zr, zi) + ci;
        zr = zr2 - zi2 + cr;
        zi = nzi;
        if (zr == pr && zi == pi) {
            st->periodic++;
            return maxit;
        }
        if (++period == check) {
            period = 0;
            check *= 2;
            pr = zr;
            pi = zi;
        }
    }
    return maxit;
}

static void stats_add(Stats *st, int it, int maxit)
{
    st->iter_sum += (uint64_t)it;
    if (it >= maxit) {
        st->inside++;
        st->hist[16]++;
    } else {
        int b = 0;
        int v = it;
        while (v > 1 && b < 15) {
            v >>= 1;
            b++;
        }
        st->hist[b]++;
    }
    st->hash = (st->hash ^ (uint32_t)it) * 0x01000193u;
}

static char shade(int it, int maxit)
{
    static const char ramp[] = " .:-=+*#%@";
    if (it >= maxit)
        return '@';
    int idx = it * 9 / maxit;
    return ramp[idx];
}

static void render(const View *v, int julia, fx jr, fx ji, Stats *st, char *thumb, int tw, int th)
{
    memset(st, 0, sizeof *st);
    st->hash = 2166136261u;
    fx dx = (v->x1 - v->x0) / v->w;
    fx dy = (v->y1 - v->y0) / v->h;
    for (int py = 0; py < v->h; py++) {
        fx y = v->y0 + dy * py;
        for (int px = 0; px < v->w; px++) {
            fx x = v->x0 + dx * px;
            int it;
            if (!julia && in_main_regions(x, y)) {
                st->early++;
                it = v->maxit;
            } else if (julia) {
                it = iterate(x, y, jr, ji, v->maxit, st);
            } else {
                it = iterate(0, 0, x, y, v->maxit, st);
            }
            stats_add(st, it, v->maxit);
            if (thumb && py % (v->h / th) == 0 && px % (v->w / tw) == 0) {
                int ty = py / (v->h / th), tx = px / (v->w / tw);
                if (ty < th && tx < tw)
                    thumb[ty * (tw + 1) + tx] = shade(it, v->maxit);
            }
        }
    }
}

static void print_stats(const char *name, const Stats *st)
{
    printf("%-10s inside=%u early=%u periodic=%u iters=%llu hash=%08x\n", name, st->inside, st->early, st->periodic,
           (unsigned long long)st->iter_sum, (unsigned)st->hash);
    printf("  hist:");
    for (int i = 0; i < 17; i++)
        printf(" %u", st->hist[i]);
    printf("\n");
}

int main(void)
{
    enum { TW = 40, TH = 12 };
    char thumb[TH * (TW + 1) + 1];
    memset(thumb, ' ', sizeof thumb);
    for (int r = 0; r < TH; r++)
        thumb[r * (TW + 1) + TW] = '\n';
    thumb[TH * (TW + 1)] = '\0';

    Stats st;
    View full = {fx_from_milli(-2200), fx_from_milli(-1200), fx_from_milli(800), fx_from_milli(1200), 160, 96, 128};
    render(&full, 0, 0, 0, &st, thumb, TW, TH);
    print_stats("full", &st);
    fputs(thumb, stdout);

    View seahorse = {fx_from_milli(-760), fx_from_milli(90), fx_from_milli(-730), fx_from_milli(120), 64, 64, MAXIT};
    render(&seahorse, 0, 0, 0, &st, NULL, 0, 0);
    print_stats("seahorse", &st);

    View jv = {fx_from_milli(-1600), fx_from_milli(-1000), fx_from_milli(1600), fx_from_milli(1000), 96, 60, 96};
    render(&jv, 1, fx_from_milli(-800), fx_from_milli(156), &st, NULL, 0, 0);
    print_stats("julia", &st);
    render(&jv, 1, fx_from_milli(285), fx_from_milli(10), &st, NULL, 0, 0);
    print_stats("julia2", &st);
    return 0;
}
