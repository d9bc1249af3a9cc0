"""Build the node-text vocabulary shipped as ``optgym/programgraphs/vocab.json``.

Run ``python -m optgym.programgraphs.make_vocab --help``. It compiles the built-in C programs
and csmith programs to -O0 bitcode, builds each program's graph at -O0 and after each of a few
pipelines (in a compiler worker, so an LLVM crash costs one sample, not the run), and counts
node texts. The vocabulary is every text of ProGraML's closed set (all opcodes, the fixed
texts and LLVM's common scalar types) followed by the other texts seen, most frequent first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from optgym.cache import atomic_write
from optgym.programgraphs.vocab import OOV_TEXT, VOCAB_PATH

PROGRAMS = Path(__file__).resolve().parents[1] / "datasets" / "builtin" / "programs"
PIPELINES = ("function(mem2reg)", "default<Oz>", "default<O3>",
             "function(sroa,instcombine<no-verify-fixpoint>,simplifycfg),loop-unroll")
OPCODES = (
    "ret br switch indirectbr invoke resume unreachable cleanupret catchret catchswitch callbr "
    "fneg add fadd sub fsub mul fmul udiv sdiv fdiv urem srem frem shl lshr ashr and or xor "
    "alloca load store getelementptr fence cmpxchg atomicrmw trunc zext sext fptoui fptosi "
    "uitofp sitofp fptrunc fpext ptrtoint inttoptr bitcast addrspacecast cleanuppad catchpad "
    "icmp fcmp phi call select va_arg extractelement insertelement shufflevector extractvalue "
    "insertvalue landingpad freeze"
).split()
FIXED = ("[external]", "; undefined function", "var", "val", "*", "struct", "[]", "vector")
PRIMITIVE_TYPES = ("i1", "i8", "i16", "i32", "i64", "i128", "half", "bfloat", "float", "double",
                   "x86_fp80", "fp128")
CLANG = ["clang-19", "-O0", "-Xclang", "-disable-O0-optnone", "-w", "-emit-llvm", "-c"]


def _bitcode(source: Path, out: Path, *flags: str) -> bytes | None:
    proc = subprocess.run([*CLANG, *flags, str(source), "-o", str(out)], capture_output=True)
    return out.read_bytes() if proc.returncode == 0 else None


def _sources(csmith_seeds: int, work: Path) -> list[tuple[str, bytes]]:
    found = []
    for c in sorted(PROGRAMS.glob("*.c")):
        bc = _bitcode(c, work / f"{c.stem}.bc")
        if bc:
            found.append((c.stem, bc))
    for seed in range(1, csmith_seeds + 1):
        src = work / f"csmith{seed}.c"
        src.write_text(subprocess.run(["csmith", "--seed", str(seed)], capture_output=True,
                                      text=True, check=True, cwd=work).stdout)
        bc = _bitcode(src, work / f"csmith{seed}.bc", "-I/usr/include/csmith")
        if bc:
            found.append((f"csmith{seed}", bc))
    return found


def count_texts(programs: list[tuple[str, bytes]], pipelines: tuple[str, ...]) -> Counter:
    """Node-text counts over every program at -O0 and after every pipeline."""
    from tqdm import tqdm

    from optgym.errors import OptgymError
    from optgym.llvm.session import CompilerSession

    counts: Counter = Counter()
    with CompilerSession() as session:
        for name, bc in tqdm(programs, desc="graphs", unit="program"):
            module = session.load(bc, name=name)
            states = [module.observe("Programl")["Programl"]]
            for pipeline in pipelines:
                try:
                    states.append(module.try_pipeline(pipeline, ("Programl",))["Programl"])
                except OptgymError as exc:  # a crash or bad pipeline loses one sample only
                    print(f"{name} {pipeline}: {exc}", file=sys.stderr)
            module.close()
            for graph in states:
                counts.update(graph.node_texts)
    return counts


def make_vocabulary(counts: Counter) -> list[str]:
    """The closed set first (stable across rebuilds), then the other texts, frequent first."""
    closed = [*FIXED, *OPCODES, *PRIMITIVE_TYPES]
    rest = sorted((t for t in counts if t not in set(closed)), key=lambda t: (-counts[t], t))
    return [*closed, *rest, OOV_TEXT]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m optgym.programgraphs.make_vocab", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--csmith-seeds", type=int, default=50,
                        help="compile csmith programs with seeds 1..N (default 50)")
    parser.add_argument("--output", type=Path, default=VOCAB_PATH,
                        help=f"where to write the vocabulary JSON (default {VOCAB_PATH})")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        programs = _sources(args.csmith_seeds, Path(tmp))
    counts = count_texts(programs, PIPELINES)
    texts = make_vocabulary(counts)
    doc = {
        "description": "optgym program-graph node texts (LLVM 19); the last entry is the "
                       "out-of-vocabulary index",
        "programs": len(programs),
        "pipelines": ["-O0", *PIPELINES],
        "texts": texts,
        "counts": [counts.get(t, 0) for t in texts],
    }
    atomic_write(args.output, (json.dumps(doc, indent=1) + "\n").encode())
    print(f"{len(texts)} texts from {len(programs)} programs -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
