/* optgym-builtin: Base64 encoder and decoder with a reverse lookup table, padding handling and invalid-input detection, round-tripping generated binary buffers of many lengths. Style: bit-twiddling, string-processing, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static int8_t reverse[256];

static void init_reverse(void)
{
    for (int i = 0; i < 256; ++i) reverse[i] = -1;
    for (int i = 0; i < 64; ++i) reverse[(unsigned char)ALPHABET[i]] = (int8_t)i;
}

static size_t encoded_len(size_t n) { return (n + 2) / 3 * 4; }

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    char *o = out;
    const uint8_t *end = in + n;
    while (end - in >= 3) {
        uint32_t v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
        *o++ = ALPHABET[v >> 18];
        *o++ = ALPHABET[(v >> 12) & 63u];
        *o++ = ALPHABET[(v >> 6) & 63u];
        *o++ = ALPHABET[v & 63u];
        in += 3;
    }
    if (end - in == 1) {
        uint32_t v = (uint32_t)in[0] << 16;
        *o++ = ALPHABET[v >> 18];
        *o++ = ALPHABET[(v >> 12) & 63u];
        *o++ = '=';
        *o++ = '=';
    } else if (end - in == 2) {
        uint32_t v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8;
        *o++ = ALPHABET[v >> 18];
        *o++ = ALPHABET[(v >> 12) & 63u];
        *o++ = ALPHABET[(v >> 6) & 63u];
        *o++ = '=';
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* returns decoded length, or -1 on malformed input */
static long b64_decode(const char *in, size_t n, uint8_t *out)
{
    if (n % 4 != 0) return -1;
    uint8_t *o = out;
    for (size_t i = 0; i < n; i += 4) {
        int pad = 0;
        uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            unsigned char c = (unsigned char)in[i + (size_t)k];
            if (c == '=') {
                if (i + 4 != n || k < 2) return -1;
                pad++;
                v <<= 6;
                continue;
            }
            if (pad) return -1;
            int8_t d = reverse[c];
            if (d < 0) return -1;
            v = v << 6 | (uint32_t)d;
        }
        *o++ = (uint8_t)(v >> 16);
        if (pad < 2) *o++ = (uint8_t)(v >> 8);
        if (pad < 1) *o++ = (uint8_t)v;
    }
    return (long)(o - out);
}

static uint32_t mix = 0x1234567u;

static uint8_t next_byte(void)
{
    mix = mix * 134775813u + 1u;
    return (uint8_t)(mix >> 24);
}

static uint32_t text_hash(const char *s)
{
    uint32_t h = 5381;
    while (*s) h = h * 33u ^ (uint8_t)*s++;
    return h;
}

int main(void)
{
    init_reverse();
    static const char *const vectors[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    char enc[8192];
    uint8_t dec[8192];
    for (int i = 0; i < 7; ++i) {
        b64_encode((const uint8_t *)vectors[i], strlen(vectors[i]), enc);
        printf("%s%s", i ? " " : "", enc[0] ? enc : "(empty)");
    }
    printf("\n");

    uint8_t src[4096];
    int roundtrip_ok = 0, length_ok = 0;
    uint32_t acc = 0;
    size_t total_chars = 0;
    for (size_t len = 0; len < 4096; len += 1 + len / 8) {
        for (size_t i = 0; i < len; ++i) src[i] = next_byte();
        size_t el = b64_encode(src, len, enc);
        if (el == encoded_len(len)) length_ok++;
        long dl = b64_decode(enc, el, dec);
        if (dl == (long)len && memcmp(src, dec, len) == 0) roundtrip_ok++;
        acc = acc * 7u + text_hash(enc);
        total_chars += el;
    }
    printf("roundtrip_ok=%d length_ok=%d chars=%zu acc=%08x\n", roundtrip_ok, length_ok, total_chars,
           (unsigned)acc);

    static const char *const bad[] = {"abc", "ab=c", "a===", "ab!d", "====", "QUJD=A==", "TWFu"};
    int rejected = 0;
    for (int i = 0; i < 7; ++i) {
        long r = b64_decode(bad[i], strlen(bad[i]), dec);
        if (r < 0) rejected++;
        else printf("accepted %s -> %ld bytes\n", bad[i], r);
    }
    printf("rejected=%d\n", rejected);
    return 0;
}
