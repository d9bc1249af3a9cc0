/* A small CRC-32 tool (IEEE 802.3 polynomial, table-driven), about 200 LLVM instructions at
 * -O0: the small program of the speed benchmarks (benchmarks/step_limit.py, dropin_startup.py,
 * compilergym_compare.py). Prints the CRC of its arguments, or of a built-in message. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t table[256];

static void make_table(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
}

static uint32_t update(uint32_t crc, const unsigned char *buf, size_t len) {
  uint32_t c = crc ^ 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++)
    c = table[(c ^ buf[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

/* The same CRC one bit at a time: the table's cross-check. */
static uint32_t update_bitwise(uint32_t crc, const unsigned char *buf, size_t len) {
  uint32_t c = ~crc;
  while (len--) {
    c ^= *buf++;
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
  }
  return ~c;
}

static uint32_t crc_of_string(const char *s) {
  return update(0, (const unsigned char *)s, strlen(s));
}

int main(int argc, char **argv) {
  make_table();
  if (argc < 2) {
    uint32_t crc = crc_of_string("The quick brown fox jumps over the lazy dog");
    printf("%08x\n", crc);
    return crc == 0x414FA339u ? 0 : 1;
  }
  for (int i = 1; i < argc; i++) {
    uint32_t crc = crc_of_string(argv[i]);
    if (crc != update_bitwise(0, (const unsigned char *)argv[i], strlen(argv[i]))) {
      fprintf(stderr, "table and bitwise CRC disagree on %s\n", argv[i]);
      return 2;
    }
    printf("%08x  %s\n", crc, argv[i]);
  }
  return 0;
}
