"""`optgym-cc`: `make CC=optgym-cc` builds a multi-file C project that runs correctly, with no
object larger than clang-19 -Oz's; link steps, other -O levels and other invocations pass
through to clang-19; a compile error leaves no object."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from optgym.llvm.core import elf_size_text, elf_text_size

OPTGYM_CC = str(Path(sys.executable).parent / "optgym-cc")

FILES = {
    "util.h": "int fib(int n);\nunsigned checksum(const char *s);\nint table(int k);\n",
    "util.c": """#include "util.h"
int fib(int n) { int a = 0, b = 1; for (int i = 0; i < n; i++) { int t = a + b; a = b; b = t; }
  return a; }
unsigned checksum(const char *s) { unsigned h = 2166136261u;
  while (*s) { h ^= (unsigned char)*s++; h *= 16777619u; } return h; }
""",
    "table.c": """#include "util.h"
static int square(int x) { return x * x; }
int table(int k) { switch (k) { case 0: return 7; case 1: return 11; case 2: return 13;
  default: return square(k) + fib(k); } }
""",
    "main.c": """#include <stdio.h>
#include "util.h"
int main(void) {
  for (int i = 0; i < 10; i++) printf("%d ", fib(i));
  printf("\\n%u\\n", checksum("optgym"));
  for (int k = 0; k < 6; k++) printf("%d ", table(k));
  printf("\\n");
  return 0;
}
""",
    "Makefile": "CFLAGS ?= -Oz -Wall\nOBJS = main.o util.o table.o\napp: $(OBJS)\n"
                "\t$(CC) $(CFLAGS) -o $@ $(OBJS)\n%.o: %.c util.h\n\t$(CC) $(CFLAGS) -MMD -c $< -o $@\n",
}
EXPECTED = "0 1 1 2 3 5 8 13 21 34 \n761408309\n7 11 13 11 19 30 \n"


def test_make_with_optgym_cc_builds_a_working_program(tmp_path):
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    env = dict(os.environ, OPTGYM_CC_BUDGET="4", OPTGYM_CC_VERBOSE="1")
    build = subprocess.run(["make", f"CC={OPTGYM_CC}"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    # every compile step went through the search; the link step did not
    assert build.stderr.count("optgym-cc: ") == 3 and "against clang -Oz's" in build.stderr
    # no object has more .text (or `size` text) than clang-19 -Oz's with the same flags
    for name in ("main", "util", "table"):
        ref = tmp_path / f"{name}.ref.o"
        subprocess.run(["clang-19", "-Oz", "-Wall", "-c", f"{name}.c", "-o", str(ref)],
                       cwd=tmp_path, check=True)
        ours, theirs = (tmp_path / f"{name}.o").read_bytes(), ref.read_bytes()
        assert elf_text_size(ours) <= elf_text_size(theirs), name
        assert elf_size_text(ours) <= elf_size_text(theirs), name
    run = subprocess.run([str(tmp_path / "app")], capture_output=True, text=True, check=True)
    assert run.stdout == EXPECTED
    assert "util.h" in (tmp_path / "main.d").read_text()  # dependency files still work
    assert (tmp_path / "main.d").read_text().startswith("main.o:")
    # pass-through: preprocessing and --version are clang-19's own output
    pre = subprocess.run([OPTGYM_CC, "-E", "main.c"], cwd=tmp_path, capture_output=True,
                         text=True, check=True)
    assert "int fib(int n);" in pre.stdout
    version = subprocess.run([OPTGYM_CC, "--version"], capture_output=True, text=True, check=True)
    assert "clang version 19" in version.stdout


def test_compile_error_is_clangs_and_leaves_no_object(tmp_path):
    (tmp_path / "broken.c").write_text("int f(void) { return undeclared; }\n")
    proc = subprocess.run([OPTGYM_CC, "-c", "broken.c", "-o", "broken.o"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "undeclared" in proc.stderr
    assert not (tmp_path / "broken.o").exists()


def test_other_levels_are_clangs_own_and_help_explains(tmp_path):
    (tmp_path / "f.c").write_text("int f(int x) { return x * 3; }\n")
    env = dict(os.environ, OPTGYM_CC_VERBOSE="1")
    proc = subprocess.run([OPTGYM_CC, "-O2", "-c", "f.c", "-o", "f.o"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True)
    assert "optgym-cc" not in proc.stderr  # not searched: -O2 is what the user asked for
    subprocess.run(["clang-19", "-O2", "-c", "f.c", "-o", "g.o"], cwd=tmp_path, check=True)
    assert (tmp_path / "f.o").read_bytes() == (tmp_path / "g.o").read_bytes()
    help_text = subprocess.run([OPTGYM_CC, "--help"], capture_output=True, text=True,
                               check=True).stdout
    assert "OPTGYM_CC_BUDGET" in help_text and "clang-19 -Oz" in help_text


def test_default_budget_is_a_multiple_of_clangs_time_unless_fixed(monkeypatch):
    import pytest

    from optgym.cc import DEFAULT_BUDGET, DEFAULT_TIME_FACTOR, MIN_SEARCH_SECONDS, default_budget
    from optgym.errors import OptgymError

    for name in ("OPTGYM_CC_BUDGET", "OPTGYM_CC_SECONDS", "OPTGYM_CC_TIME_FACTOR",
                 "OPTGYM_CC_MIN_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert default_budget(3.0).seconds == DEFAULT_TIME_FACTOR * 3.0
    assert default_budget(3.0).compilations == DEFAULT_BUDGET
    assert default_budget(0.001).seconds == MIN_SEARCH_SECONDS
    monkeypatch.setenv("OPTGYM_CC_MIN_SECONDS", "1.5")
    assert default_budget(0.001).seconds == 1.5
    monkeypatch.setenv("OPTGYM_CC_MIN_SECONDS", "-2")
    with pytest.raises(OptgymError, match="OPTGYM_CC_MIN_SECONDS=-2.0 must be a number of"):
        default_budget(3.0)
    monkeypatch.delenv("OPTGYM_CC_MIN_SECONDS")
    monkeypatch.setenv("OPTGYM_CC_TIME_FACTOR", "4")
    assert default_budget(3.0).seconds == 12.0
    monkeypatch.setenv("OPTGYM_CC_TIME_FACTOR", "-1")
    with pytest.raises(OptgymError, match="OPTGYM_CC_TIME_FACTOR=-1.0 must be a positive"):
        default_budget(3.0)
    monkeypatch.setenv("OPTGYM_CC_TIME_FACTOR", "4")
    monkeypatch.setenv("OPTGYM_CC_BUDGET", "5")  # a fixed count: no clock, reproducible
    assert (default_budget(3.0).compilations, default_budget(3.0).seconds) == (5, None)
    monkeypatch.setenv("OPTGYM_CC_BUDGET", "five")
    with pytest.raises(OptgymError, match="OPTGYM_CC_BUDGET='five' is not an integer"):
        default_budget(3.0)
