/* optgym-builtin: Adler-32 (naive and deferred-modulo), Fletcher-16 and Fletcher-32 checksums over generated buffers, with rolling-window Adler updates verified against recomputation. Style: loop-heavy, numeric, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ADLER_MOD 65521u
#define NMAX 5552

static uint32_t adler_naive(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; ++i) {
        a = (a + p[i]) % ADLER_MOD;
        b = (b + a) % ADLER_MOD;
    }
    return b << 16 | a;
}

static uint32_t adler_update(uint32_t adler, const uint8_t *p, size_t n)
{
    uint32_t a = adler & 0xFFFFu, b = adler >> 16;
    while (n > 0) {
        size_t block = n < NMAX ? n : NMAX;
        n -= block;
        while (block >= 4) {
            a += p[0]; b += a;
            a += p[1]; b += a;
            a += p[2]; b += a;
            a += p[3]; b += a;
            p += 4;
            block -= 4;
        }
        while (block--) {
            a += *p++;
            b += a;
        }
        a %= ADLER_MOD;
        b %= ADLER_MOD;
    }
    return b << 16 | a;
}

static uint32_t adler_combine(uint32_t a1, uint32_t a2, size_t len2)
{
    uint32_t rem = (uint32_t)(len2 % ADLER_MOD);
    uint32_t s1 = a1 & 0xFFFFu, s2 = (rem * s1) % ADLER_MOD;
    uint32_t sum1 = s1 + (a2 & 0xFFFFu) + ADLER_MOD - 1;
    uint32_t sum2 = (a1 >> 16) + (a2 >> 16) + s2 + ADLER_MOD - rem;
    if (sum1 >= ADLER_MOD) sum1 -= ADLER_MOD;
    if (sum1 >= ADLER_MOD) sum1 -= ADLER_MOD;
    if (sum2 >= 2u * ADLER_MOD) sum2 -= 2u * ADLER_MOD;
    if (sum2 >= ADLER_MOD) sum2 -= ADLER_MOD;
    return sum2 << 16 | sum1;
}

/* rolling: remove byte `out` and append byte `in` for a window of length w */
static uint32_t adler_roll(uint32_t adler, size_t w, uint8_t out, uint8_t in)
{
    uint32_t a = adler & 0xFFFFu, b = adler >> 16;
    a = (a + ADLER_MOD - out + in) % ADLER_MOD;
    uint32_t wm = (uint32_t)(w % ADLER_MOD);
    b = (b + ADLER_MOD * 2u - (wm * out) % ADLER_MOD - 1u + a) % ADLER_MOD;
    return b << 16 | a;
}

static uint16_t fletcher16(const uint8_t *p, size_t n)
{
    uint32_t s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; ++i) {
        s1 = (s1 + p[i]) % 255u;
        s2 = (s2 + s1) % 255u;
    }
    return (uint16_t)(s2 << 8 | s1);
}

static uint32_t fletcher32(const uint8_t *p, size_t n)
{
    uint32_t s1 = 0xFFFFu, s2 = 0xFFFFu;
    size_t words = n / 2;
    while (words) {
        size_t t = words > 359 ? 359 : words;
        words -= t;
        do {
            s1 += (uint32_t)p[0] | (uint32_t)p[1] << 8;
            s2 += s1;
            p += 2;
        } while (--t);
        s1 = (s1 & 0xFFFFu) + (s1 >> 16);
        s2 = (s2 & 0xFFFFu) + (s2 >> 16);
    }
    if (n & 1u) {
        s1 += *p;
        s2 += s1;
        s1 = (s1 & 0xFFFFu) + (s1 >> 16);
        s2 = (s2 & 0xFFFFu) + (s2 >> 16);
    }
    s1 = (s1 & 0xFFFFu) + (s1 >> 16);
    s2 = (s2 & 0xFFFFu) + (s2 >> 16);
    return s2 << 16 | s1;
}

static void gen_text(uint8_t *buf, size_t n, uint32_t seed)
{
    static const char words[] = "the quick brown fox jumps over a lazy dog while compilers optimize loops ";
    size_t wl = sizeof words - 1;
    for (size_t i = 0; i < n; ++i) {
        seed = seed * 69069u + 1u;
        buf[i] = (seed >> 28) == 0 ? (uint8_t)(seed >> 20) : (uint8_t)words[(i + (seed >> 29)) % wl];
    }
}

int main(void)
{
    enum { N = 20000, W = 64 };
    uint8_t *buf = malloc(N);
    if (!buf) return 1;
    printf("wikipedia: %08x\n", (unsigned)adler_naive((const uint8_t *)"Wikipedia", 9));
    int bad = 0;
    for (int round = 0; round < 4; ++round) {
        size_t n = N - (size_t)round * 4321;
        gen_text(buf, n, (uint32_t)round + 17u);
        uint32_t a1 = adler_naive(buf, n), a2 = adler_update(1, buf, n);
        size_t cut = n / 3;
        uint32_t a3 = adler_combine(adler_update(1, buf, cut), adler_update(1, buf + cut, n - cut), n - cut);
        if (a1 != a2 || a2 != a3) bad++;
        printf("round %d n=%zu adler=%08x f16=%04x f32=%08x\n", round, n, (unsigned)a1,
               (unsigned)fletcher16(buf, n), (unsigned)fletcher32(buf, n));
    }
    /* rolling window, as used by rsync-like delta matching */
    uint32_t roll = adler_update(1, buf, W);
    uint32_t acc = 0;
    int roll_bad = 0;
    for (size_t i = W; i < 3000; ++i) {
        roll = adler_roll(roll, W, buf[i - W], buf[i]);
        if ((i & 127u) == 0 && roll != adler_update(1, buf + i - W + 1, W)) roll_bad++;
        acc = acc * 3u + roll;
    }
    printf("bad=%d roll_bad=%d roll_acc=%08x\n", bad, roll_bad, (unsigned)acc);
    free(buf);
    return 0;
}
