/* optgym-builtin: UTF-8 and UTF-16 encoders and strict decoders with rejection of overlong forms, surrogates, truncation and out-of-range values, a DFA-style validator, and round trips over generated code points and corrupted byte streams. Style: bit-twiddling, switch-heavy, string-processing */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NCP 6000
#define REPLACEMENT 0xFFFDu

typedef enum { U_OK, U_TRUNCATED, U_BAD_LEAD, U_BAD_CONT, U_OVERLONG, U_SURROGATE, U_RANGE, NERR } UErr;

static const char *err_names[NERR] = {"ok", "truncated", "bad_lead", "bad_cont", "overlong", "surrogate", "range"};

static uint32_t s = 0xDEADBEEFu;

static uint32_t rnd(void)
{
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

static int utf8_encode(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static int seq_len(uint8_t lead)
{
    switch (lead >> 4) {
    case 0x0: case 0x1: case 0x2: case 0x3:
    case 0x4: case 0x5: case 0x6: case 0x7:
        return 1;
    case 0xC: case 0xD:
        return 2;
    case 0xE:
        return 3;
    case 0xF:
        return (lead & 0x08) ? 0 : 4;
    default:
        return 0; /* continuation byte as lead */
    }
}

/* Decodes one scalar value; on error *used is the number of bytes to skip. */
static UErr utf8_decode(const uint8_t *p, size_t avail, uint32_t *cp, int *used)
{
    int n = seq_len(p[0]);
    *used = 1;
    if (n == 0)
        return U_BAD_LEAD;
    if (n == 1) {
        *cp = p[0];
        return U_OK;
    }
    if ((size_t)n > avail) {
        for (size_t k = 1; k < avail; k++)
            if ((p[k] & 0xC0) != 0x80) {
                *used = (int)k;
                return U_BAD_CONT;
            }
        *used = (int)avail;
        return U_TRUNCATED;
    }
    uint32_t v = p[0] & (0x7Fu >> n);
    for (int k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            *used = k;
            return U_BAD_CONT;
        }
        v = (v << 6) | (p[k] & 0x3Fu);
    }
    *used = n;
    static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min_for_len[n])
        return U_OVERLONG;
    if (v >= 0xD800 && v <= 0xDFFF)
        return U_SURROGATE;
    if (v > 0x10FFFF)
        return U_RANGE;
    *cp = v;
    return U_OK;
}

static int utf16_encode(uint32_t cp, uint16_t *out)
{
    if (cp < 0x10000) {
        out[0] = (uint16_t)cp;
        return 1;
    }
    cp -= 0x10000;
    out[0] = (uint16_t)(0xD800 | (cp >> 10));
    out[1] = (uint16_t)(0xDC00 | (cp & 0x3FF));
    return 2;
}

static int utf16_decode(const uint16_t *p, size_t avail, uint32_t *cp)
{
    uint16_t a = p[0];
    if (a < 0xD800 || a > 0xDFFF) {
        *cp = a;
        return 1;
    }
    if (a >= 0xDC00 || avail < 2 || p[1] < 0xDC00 || p[1] > 0xDFFF) {
        *cp = REPLACEMENT;
        return 1;
    }
    *cp = 0x10000u + (((uint32_t)(a & 0x3FF) << 10) | (p[1] & 0x3FFu));
    return 2;
}

/* Independent validator written as a byte-class state machine. */
static int validate(const uint8_t *p, size_t n)
{
    enum { ACCEPT, NEED1, NEED2, NEED3, E0_SECOND, ED_SECOND, F0_SECOND, F4_SECOND };
    int state = ACCEPT;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        switch (state) {
        case ACCEPT:
            if (b < 0x80) state = ACCEPT;
            else if (b >= 0xC2 && b <= 0xDF) state = NEED1;
            else if (b == 0xE0) state = E0_SECOND;
            else if (b == 0xED) state = ED_SECOND;
            else if (b >= 0xE1 && b <= 0xEF) state = NEED2;
            else if (b == 0xF0) state = F0_SECOND;
            else if (b >= 0xF1 && b <= 0xF3) state = NEED3;
            else if (b == 0xF4) state = F4_SECOND;
            else return 0;
            break;
        case NEED1: case NEED2: case NEED3:
            if ((b & 0xC0) != 0x80) return 0;
            state = state == NEED3 ? NEED2 : state == NEED2 ? NEED1 : ACCEPT;
            break;
        case E0_SECOND:
            if (b < 0xA0 || b > 0xBF) return 0;
            state = NEED1;
            break;
        case ED_SECOND:
            if (b < 0x80 || b > 0x9F) return 0;
            state = NEED1;
            break;
        case F0_SECOND:
            if (b < 0x90 || b > 0xBF) return 0;
            state = NEED2;
            break;
        default: /* F4_SECOND */
            if (b < 0x80 || b > 0x8F) return 0;
            state = NEED2;
            break;
        }
    }
    return state == ACCEPT;
}

static uint32_t random_scalar(void)
{
    uint32_t r = rnd();
    uint32_t cp;
    switch (r % 5u) {
    case 0: cp = 0x20 + (r >> 8) % 0x5F; break;
    case 1: cp = 0x80 + (r >> 8) % 0x780; break;
    case 2: cp = 0x800 + (r >> 8) % 0xF800; break;
    case 3: cp = 0x10000 + (r >> 8) % 0x100000; break;
    default: cp = 0x4E00 + (r >> 8) % 0x5000; break;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp -= 0x1000;
    return cp;
}

int main(void)
{
    static uint32_t cps[NCP], back[NCP];
    static uint8_t bytes[NCP * 4];
    static uint16_t units[NCP * 2];
    size_t nb = 0, nu = 0;
    int len_hist[5] = {0};
    for (int i = 0; i < NCP; i++) {
        cps[i] = random_scalar();
        int l = utf8_encode(cps[i], bytes + nb);
        len_hist[l]++;
        nb += (size_t)l;
        nu += (size_t)utf16_encode(cps[i], units + nu);
    }
    int nback = 0, errors = 0;
    for (size_t i = 0; i < nb;) {
        uint32_t cp = 0;
        int used;
        if (utf8_decode(bytes + i, nb - i, &cp, &used) != U_OK)
            errors++;
        back[nback++] = cp;
        i += (size_t)used;
    }
    int same8 = nback == NCP && memcmp(back, cps, sizeof cps) == 0;
    int n16 = 0, same16 = 1;
    for (size_t i = 0; i < nu;) {
        uint32_t cp;
        i += (size_t)utf16_decode(units + i, nu - i, &cp);
        if (n16 >= NCP || cp != cps[n16])
            same16 = 0;
        n16++;
    }
    printf("codepoints=%d utf8 bytes=%zu utf16 units=%zu lens=%d/%d/%d/%d\n", NCP, nb, nu, len_hist[1], len_hist[2],
           len_hist[3], len_hist[4]);
    printf("roundtrip utf8=%d errors=%d utf16=%d valid=%d\n", same8, errors, same16, validate(bytes, nb));

    /* Corrupt copies of the stream and compare the decoder against the validator. */
    int err_hist[NERR] = {0};
    int agree = 0, trials = 0;
    uint32_t h = 2166136261u;
    static uint8_t work[NCP * 4];
    for (int t = 0; t < 300; t++) {
        size_t start = rnd() % (nb - 64), len = 8 + rnd() % 48;
        memcpy(work, bytes + start, len);
        /* Skip to a character boundary first. */
        size_t off = 0;
        while (off < len && (work[off] & 0xC0) == 0x80)
            off++;
        uint32_t where = rnd() % (uint32_t)(len - off); /* separate call: operand order is unspecified */
        switch (rnd() % 6u) {
        case 0: work[off + where] ^= (uint8_t)(1u << (rnd() % 8u)); break;
        case 1: work[off + where] = 0xC0 | (uint8_t)(rnd() & 1u); break; /* overlong lead */
        case 2: work[off] = 0xED; work[off + 1] = 0xA0 | (uint8_t)(rnd() & 0x1Fu); break;        /* surrogate */
        case 3: work[off] = 0xF4; work[off + 1] = 0x90; break;                                    /* > U+10FFFF */
        case 4: len -= 1; break;                                                                  /* truncate */
        default: break;
        }
        int ok = 1;
        for (size_t i = off; i < len;) {
            uint32_t cp = REPLACEMENT;
            int used;
            UErr e = utf8_decode(work + i, len - i, &cp, &used);
            err_hist[e]++;
            if (e != U_OK) {
                ok = 0;
                cp = REPLACEMENT;
            }
            h = (h ^ cp) * 16777619u;
            i += (size_t)used;
        }
        trials++;
        agree += ok == validate(work + off, len - off);
    }
    printf("corrupted trials=%d decoder/validator agree=%d hash=%08x\n", trials, agree, (unsigned)h);
    for (int e = 0; e < NERR; e++)
        printf("  %-9s %d\n", err_names[e], err_hist[e]);
    return 0;
}
