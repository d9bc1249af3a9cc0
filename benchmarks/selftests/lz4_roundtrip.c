/* A round trip through LZ4's block, HC and frame APIs, printing checksums: linked against
 * each build of the library, it must print what the -O0 build prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lz4.h"
#include "lz4hc.h"
#include "lz4frame.h"

static unsigned fnv(const char *p, size_t n) {
  unsigned h = 2166136261u;
  for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 16777619u; }
  return h;
}

int main(void) {
  enum { N = 1 << 18 };
  char *src = malloc(N), *dst = malloc(LZ4F_compressFrameBound(N, NULL)), *back = malloc(N);
  unsigned x = 12345;
  for (int i = 0; i < N; i++) {  /* text-like data with repeats, then noise */
    x = x * 1103515245u + 12345u;
    src[i] = i < N / 2 ? "the quick brown fox jumps over the lazy dog "[(i + (x >> 28)) % 44]
                       : (char)(x >> 16);
  }
  int c = LZ4_compress_default(src, dst, N, LZ4_compressBound(N));
  int d = LZ4_decompress_safe(dst, back, c, N);
  printf("block %d %d %08x %d\n", c, d, fnv(dst, c), memcmp(src, back, N) == 0);
  for (int level = 1; level <= 12; level += 5) {
    c = LZ4_compress_HC(src, dst, N, LZ4_compressBound(N), level);
    d = LZ4_decompress_safe(dst, back, c, N);
    printf("hc%d %d %d %08x %d\n", level, c, d, fnv(dst, c), memcmp(src, back, N) == 0);
  }
  size_t fc = LZ4F_compressFrame(dst, LZ4F_compressFrameBound(N, NULL), src, N, NULL);
  LZ4F_dctx *dctx;
  LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION);
  size_t out = N, in = fc;
  size_t r = LZ4F_decompress(dctx, back, &out, dst, &in, NULL);
  LZ4F_freeDecompressionContext(dctx);
  printf("frame %zu %zu %zu %08x %d\n", fc, out, r, fnv(dst, fc), memcmp(src, back, N) == 0);
  return 0;
}
