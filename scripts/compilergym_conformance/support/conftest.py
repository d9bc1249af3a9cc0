"""Runs CompilerGym's tests on optgym.compat: import aliases and a cBench stand-in (optgym's
own code; see scripts/compilergym_conformance/README.md)."""

import optgym.compat
import optgym.compat.util.runfiles_path
from optgym.datasets import Benchmark, Dataset, get_benchmark, register_dataset

optgym.compat.alias(gym=True)

#: cBench's programs, each given a builtin-v0 program of the same kind.
STAND_INS = {
    "adpcm": "iir_biquad", "bitcount": "bit_tricks", "blowfish": "hash_murmur",
    "bzip2": "rle_codec", "crc32": "crc32", "dijkstra": "dijkstra", "ghostscript": "interp_ast",
    "gsm": "fir_fixed", "ispell": "text_wrap", "jpeg-c": "dct_fixed", "jpeg-d": "huffman",
    "lame": "fft_fixed", "patricia": "rbtree", "qsort": "sort_quick", "rijndael": "base64_codec",
    "sha": "hash_fnv_xx", "stringsearch": "string_search", "stringsearch2": "regex_lite",
    "susan": "stencil2d", "tiff2bw": "game_of_life", "tiff2rgba": "mandelbrot_fixed",
    "tiffdither": "matmul_int", "tiffmedian": "sort_merge",
}


class StandIn(Benchmark):
    """A builtin-v0 program under a cBench name."""

    def __init__(self, dataset: str, name: str):
        super().__init__(f"benchmark://{dataset}/{name}", dataset, name, runnable=True)
        self.builtin = get_benchmark(f"benchmark://builtin-v0/{STAND_INS[name]}")

    def _load_bitcode(self) -> bytes:
        return self.builtin.bitcode


class CBenchStandIn(Dataset):
    """cBench's names over builtin-v0's programs."""

    def __init__(self, name: str):
        super().__init__(name, description="cBench stand-in (builtin-v0 programs)",
                         license="optgym", runnable=True)

    def _names(self) -> list[str]:
        return sorted(STAND_INS)

    def _make_benchmark(self, name: str) -> Benchmark:
        return StandIn(self.name, name)


for _name in ("cbench-v1", "cBench-v0"):
    register_dataset(CBenchStandIn(_name), replace=True)

# CompilerGym's package shipped cBench's crc32 bitcode, which some tests load by path.
_CRC32 = optgym.compat.util.runfiles_path.runfiles_path(
    "compiler_gym/third_party/cbench/cbench-v1/crc32.bc")
if not _CRC32.is_file():
    _CRC32.parent.mkdir(parents=True, exist_ok=True)
    _CRC32.write_bytes(get_benchmark("benchmark://builtin-v0/crc32").bitcode)
