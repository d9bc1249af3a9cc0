/* optgym-builtin: CRC-32 (IEEE) and CRC-32C computed bitwise, with a 256-entry table and slicing-by-4, cross-checked on generated buffers and streamed in chunks. Style: bit-twiddling, loop-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POLY_IEEE 0xEDB88320u
#define POLY_CASTAGNOLI 0x82F63B78u

static uint32_t table[4][256];
static uint32_t table_c[256];

static uint32_t crc_bitwise(uint32_t crc, const uint8_t *p, size_t n, uint32_t poly)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (poly & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void build_tables(void)
{
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i, d = i;
        for (int k = 0; k < 8; ++k) {
            c = (c & 1u) ? (c >> 1) ^ POLY_IEEE : c >> 1;
            d = (d & 1u) ? (d >> 1) ^ POLY_CASTAGNOLI : d >> 1;
        }
        table[0][i] = c;
        table_c[i] = d;
    }
    for (uint32_t i = 0; i < 256; ++i)
        for (int t = 1; t < 4; ++t) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFFu];
}

static uint32_t crc_table(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; ++i) crc = table[0][(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

static uint32_t crc_c_table(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; ++i) crc = table_c[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc_slice4(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n >= 4) {
        crc ^= load_le32(p);
        crc = table[3][crc & 0xFFu] ^ table[2][(crc >> 8) & 0xFFu] ^ table[1][(crc >> 16) & 0xFFu] ^
              table[0][crc >> 24];
        p += 4;
        n -= 4;
    }
    while (n--) crc = table[0][(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

static void fill_buffer(uint8_t *buf, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; ++i) {
        seed = seed * 214013u + 2531011u;
        buf[i] = (uint8_t)(seed >> 16);
    }
}

int main(void)
{
    build_tables();
    const char *check = "123456789";
    const uint8_t *cp = (const uint8_t *)check;
    printf("check: ieee=%08x/%08x/%08x castagnoli=%08x/%08x\n", (unsigned)crc_bitwise(0, cp, 9, POLY_IEEE),
           (unsigned)crc_table(0, cp, 9), (unsigned)crc_slice4(0, cp, 9),
           (unsigned)crc_bitwise(0, cp, 9, POLY_CASTAGNOLI), (unsigned)crc_c_table(0, cp, 9));

    enum { N = 16384 };
    uint8_t *buf = malloc(N);
    if (!buf) return 1;
    uint32_t combined = 0;
    int mismatches = 0;
    for (int round = 0; round < 6; ++round) {
        size_t n = N - (size_t)round * 1001;
        fill_buffer(buf, n, (uint32_t)round * 7919u + 1u);
        uint32_t a = crc_bitwise(0, buf, n, POLY_IEEE);
        uint32_t b = crc_table(0, buf, n);
        uint32_t c = crc_slice4(0, buf, n);
        /* streaming in odd-sized chunks must give the same result */
        uint32_t s = 0;
        size_t off = 0, chunk = 1;
        while (off < n) {
            size_t len = chunk < n - off ? chunk : n - off;
            s = crc_slice4(s, buf + off, len);
            off += len;
            chunk = chunk * 3 + 1;
        }
        uint32_t cc = crc_c_table(0, buf, n);
        if (a != b || b != c || c != s) mismatches++;
        if (crc_bitwise(0, buf, n, POLY_CASTAGNOLI) != cc) mismatches++;
        printf("round %d len=%zu crc32=%08x crc32c=%08x\n", round, n, (unsigned)a, (unsigned)cc);
        combined ^= a + cc;
    }
    /* single-bit error detection */
    int detected = 0;
    fill_buffer(buf, 256, 99u);
    uint32_t base = crc_table(0, buf, 256);
    for (int bit = 0; bit < 256 * 8; ++bit) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (crc_table(0, buf, 256) != base) detected++;
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    printf("mismatches=%d detected=%d/2048 combined=%08x\n", mismatches, detected, (unsigned)combined);
    free(buf);
    return 0;
}
