"""Fuzz what the Guarantees table promises: environments under interrupts and worker kills, the
drop-ins under Ctrl-C and SIGTERM, and hostile result files and archives. One table at the end.

Episodes. Each resets to a random program (alternating generator://llvm-stress-v0 and
generator://csmith-v0 seeds) and takes random actions of flags-pipelines-v0. Before some steps
a fault is set to land at a random moment inside the step: an exception raised by a signal
handler, as Ctrl-C would (``--interrupt-prob``), a SIGKILL of the compiler worker
(``--kill-prob``) or a SIGSTOP of it, which the pass time-out must end (``--stop-prob``); and
between some steps the idle worker is killed (``--idle-kill-prob``). At the end of the episode
its final module is checked against a replay of the same actions in a second, untouched
environment: any difference means a reply was handed to the wrong request (desynchronized).

Drop-ins (``--drop-ins N``). N runs of optgym-opt and optgym-cc on csmith programs, each in
its own process group and temporary directory, sent SIGINT (also with SIGINT inherited ignored,
as a shell's background job has it) or SIGTERM at a random moment: each must exit 130 / 143
having written nothing (or 0 with its whole output, if it finished first), leaving no process
and no temporary file.

Hostile inputs (``--hostile N``). N random hostile result files (deep JSON, long fields, binary
junk, ragged rows) and archives (path tricks, links, devices, FIFOs, bombs, many members, chained
long names): each must be refused with a typed error, writing nothing outside its destination.
``--big-archives`` adds the audit's two: 600,000 members and a 2 GiB gzip bomb, refused in a
fresh process whose CPU time and peak memory are reported.

Printed: one row per kind of fault with how many were injected, how they were handled, and the
failures: parent crashes (exceptions that are not optgym's typed errors), desynchronized
episodes, orphans (processes alive after their owner), leftovers (files left behind), wrong
exit codes. Not run in CI; under the shared lock, as it needs minutes of CPU:

    flock /tmp/optgym-heavy.lock .venv/bin/python benchmarks/fuzz_envs.py --episodes 120 \\
        --kill-prob 0.04 --idle-kill-prob 0.04 --drop-ins 24 --hostile 60 --big-archives
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
import traceback
import zipfile
import zlib
from pathlib import Path

import numpy as np

from optgym.envs.llvm import LlvmEnv
from optgym.errors import CompilerCrash, OptgymError, PassTimeout

BIN = Path(sys.executable).parent


class Interrupt(Exception):
    """Raised by the SIGALRM handler: stands for Ctrl-C landing inside a step."""


def _raise(signum, frame):
    raise Interrupt


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _processes(field: int, value: int) -> list[int]:
    """Live processes whose /proc stat ``field`` (1: parent, 2: process group) is ``value``."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().split(")")[-1].split()
            except OSError:
                continue
            if int(fields[field]) == value and fields[0] != "Z":
                out.append(int(entry))
    return out


def _env(timeout: float) -> LlvmEnv:
    return LlvmEnv(observation_space="IrInstructionCount", reward_space="IrInstructionCountOz",
                   action_space="flags-pipelines-v0", timeout=timeout)


class Table:
    """Rows of counts by fault kind, printed once at the end."""

    COLUMNS = ("injected", "handled", "failures", "max s")

    def __init__(self) -> None:
        self.rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.notes: dict[str, list[str]] = collections.defaultdict(list)

    def add(self, row: str, handled: bool, seconds: float = 0.0, note: str = "") -> None:
        self.rows[row]["injected"] += 1
        self.rows[row]["handled" if handled else "failures"] += 1
        self.seconds[row] = max(self.seconds[row], seconds)
        if note and len(self.notes[row]) < 5:
            self.notes[row].append(note)

    def count(self, row: str, n: int = 1) -> None:
        self.rows[row]["injected"] += n

    def print(self) -> None:
        print(f"\n{'fault':<62}" + "".join(f"{c:>10}" for c in self.COLUMNS))
        for row, counts in self.rows.items():
            cells = [str(counts["injected"]), str(counts["handled"]), str(counts["failures"]),
                     f"{self.seconds[row]:.2f}" if self.seconds[row] else ""]
            print(f"{row:<62}" + "".join(f"{c:>10}" for c in cells))
            for note in self.notes[row]:
                print(f"{'':<6}{note[:150]}")

    def failures(self) -> int:
        return sum(c["failures"] for c in self.rows.values())

    def summary(self) -> str:
        """The three numbers the benchmark is for, whatever rows the run produced."""
        def failed(prefix: str) -> int:
            return sum(c["failures"] for row, c in self.rows.items() if row.startswith(prefix))

        return (f"parent crashes {failed('episodes: parent crashes')}, desynchronized episodes "
                f"{failed('episodes: final module')}, orphans "
                f"{failed('episodes: no worker left') + failed('drop-ins: no process')}, "
                f"leftover temporary files {failed('drop-ins: no temporary')}")


# -- episodes ---------------------------------------------------------------------------------
def _inject(kind: str, pid: int, rng: np.random.Generator) -> threading.Timer | None:
    """Arm a fault to land at a random moment of the coming step."""
    delay = float(rng.uniform(0.0002, 0.02))
    if kind == "interrupt":
        signal.setitimer(signal.ITIMER_REAL, delay)
        return None
    sig = signal.SIGKILL if kind == "kill" else signal.SIGSTOP
    timer = threading.Timer(delay, lambda: _kill(pid, sig))
    timer.start()
    return timer


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def run_episodes(args: argparse.Namespace, table: Table) -> None:  # noqa: C901 - one episode loop that injects every kind of fault and counts each outcome
    rng = np.random.default_rng(args.seed)
    workers: set[int] = set()
    signal.signal(signal.SIGALRM, _raise)
    env, reference = _env(args.timeout), _env(args.timeout)
    kinds = [("interrupt", args.interrupt_prob), ("kill", args.kill_prob),
             ("stop", args.stop_prob)]
    start = time.monotonic()
    for episode in range(args.episodes):
        dataset = ("llvm-stress-v0", "csmith-v0")[episode % 2]
        uri = f"generator://{dataset}/{int(rng.integers(1 << 20))}"
        try:
            env.reset(options={"benchmark": uri})
        except OptgymError as exc:
            table.add("episodes: resets refused (typed error)", True,
                      note=f"{uri}: {str(exc).splitlines()[0]}")
            if args.verbose:
                print(f"  reset refused: {uri}: {exc}", flush=True)
            continue
        except Exception:  # noqa: BLE001 - what the benchmark is looking for
            table.add("episodes: parent crashes", False, note=traceback.format_exc(-1))
            env.close()
            env = _env(args.timeout)
            continue
        fault_steps = 0
        events: list[str] = []  # what happened at each step, printed on a desynchronization
        try:
            for _ in range(args.steps):
                workers.add(env.session.pid or 0)
                action = int(rng.integers(env.action_space.n))
                idle_killed = rng.random() < args.idle_kill_prob
                if idle_killed:
                    _kill(env.session.pid, signal.SIGKILL)
                    kind = None
                else:
                    kind = next((k for k, p in kinds if rng.random() < p), None)
                timer = _inject(kind, env.session.pid, rng) if kind else None
                step_start = time.monotonic()
                events.append(f"{env.actions[action].flag} "
                              f"{'idle-kill' if idle_killed else kind or ''}")
                try:
                    _, _, terminated, _, info = env.step(action)
                except Interrupt:
                    table.add("interrupt mid-step (exception from a handler)", True)
                    fault_steps += 1
                    events[-1] += " -> interrupted"
                    continue
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    if timer is not None:
                        timer.cancel()
                        timer.join()
                took = time.monotonic() - step_start
                table.count("steps")
                error = info.get("error")
                events[-1] += f" -> {type(error).__name__ if error else 'ok'} " \
                              f"{int(env.observe('IrInstructionCount'))}"
                if idle_killed:  # an error naming our SIGKILL blames a pass that never ran
                    ok = error is None or "SIGKILL" not in str(error)
                    table.add("worker SIGKILLed while idle: next step runs", ok, took,
                              note="" if ok else f"{uri}: {error}")
                elif kind == "kill":
                    fault_steps += 1
                    # The kill may land after the pass finished: then the next request finds
                    # the worker gone while idle, which must not be an error either.
                    ok = error is None or type(error) is CompilerCrash
                    table.add("worker SIGKILLed mid-step: CompilerCrash or done", ok, took,
                              note="" if ok else f"{uri}: {error!r}")
                elif kind == "stop":
                    fault_steps += 1
                    ok = error is None or isinstance(error, PassTimeout)
                    table.add("worker SIGSTOPped mid-step: PassTimeout or done", ok, took,
                              note="" if ok else f"{uri}: {error!r}")
                elif error is not None:
                    table.add("LLVM crashes and time-outs of the passes themselves",
                              isinstance(error, CompilerCrash), took)
                if terminated:
                    break
            final = int(env.observe("IrInstructionCount"))
            reference.reset(options={"benchmark": uri})
            for pipeline in env.actions_taken:
                reference.step(reference.actions.index(pipeline))
            replay = int(reference.observe("IrInstructionCount"))
            table.add("episodes: final module equals a fresh replay", replay == final,
                      note="" if replay == final else f"DESYNC {uri}: {final} != {replay}")
            if replay != final and args.verbose:
                print(f"  DESYNC {uri}: {final} != {replay}; steps: {events}", flush=True)
            if fault_steps:
                table.count("episodes with faults injected")
        except Interrupt:
            table.add("interrupt outside a step (harmless)", True)
        except PassTimeout:
            table.add("time-outs outside a step (typed)", True)
        except OptgymError as exc:
            table.add("typed errors outside steps", True, note=f"{uri}: {type(exc).__name__}: "
                      f"{str(exc).splitlines()[0]}")
        except Exception:  # noqa: BLE001
            table.add("episodes: parent crashes", False, note=traceback.format_exc(-1))
            env.close()
            env = _env(args.timeout)
        if (episode + 1) % 20 == 0:
            print(f"{episode + 1} episodes, {time.monotonic() - start:.0f} s", flush=True)
    for e in (env, reference):
        workers.add(e.session.pid or 0)
        e.close()
    time.sleep(0.5)
    orphans = sum(_alive(pid) for pid in workers - {0}) + len(_processes(1, os.getpid()))
    table.add(f"episodes: no worker left ({len(workers - {0})} seen)", orphans == 0,
              note=f"{orphans} orphans" if orphans else "")


# -- drop-ins -------------------------------------------------------------------------------
def _csmith_source(seed: int, directory: Path) -> Path:
    source = directory / f"csmith{seed}.c"
    source.write_text(subprocess.run(["csmith", "--seed", str(seed), "--max-funcs", "4"],
                                     capture_output=True, text=True, check=True,
                                     cwd=directory).stdout)
    return source


def _signal_masks(pid: int) -> str:
    """A process's blocked and ignored signals, as /proc shows them (for a failure's note)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "gone"
    return " ".join(line.replace("\t", "") for line in lines if line.startswith(("SigBlk", "SigIgn")))


def _drop_in(argv: list[str], tmp: Path, moment: float, sig: int, ignore: bool,
             out: Path, env: dict[str, str], own_files: str = "") -> tuple[bool, str, int, int]:
    """Run a drop-in, signal its group at ``moment``; whether it behaved, and why not. Files
    in ``tmp`` starting with ``own_files`` are the drop-in's (optgym-cc's build server, in its
    own session, keeps working after a compile step is stopped, and cleans up after itself)."""
    tmp.mkdir()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, env={**env, "TMPDIR": str(tmp)},
                            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
                            if ignore else None)
    time.sleep(moment)
    masks = _signal_masks(proc.pid)
    signalled = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=300)
    late = time.monotonic() - signalled > 2.0 and proc.returncode == 0
    deadline = time.monotonic() + 5
    while _processes(2, proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _processes(2, proc.pid)
    files = sorted(p.name for p in tmp.iterdir() if p.name.startswith(own_files))
    code = proc.returncode
    why = []
    if left:
        why.append(f"processes left {left}")
        for pid in left:
            _kill(pid, signal.SIGKILL)
    if files:
        why.append(f"temporary files left {files}")
    if code == 0:
        if not out.exists():
            why.append("exit 0 without output")
        if late:
            why.append(f"ran on for seconds after the signal and exited 0 ({masks})")
    elif code in (128 + sig, -sig, 1) and not out.exists():
        if code != 128 + sig and moment > 1.0:  # Python's own start-up is over by then
            why.append(f"exit {code} after start-up")
    else:
        why.append(f"exit {code}, output {'written' if out.exists() else 'absent'}")
    if b"Traceback" in err and code == 128 + sig:
        why.append("a traceback")
    return (not why, "; ".join(why) + ("" if not why else f" ({argv[0]}, {moment:.2f} s)"),
            len(left), len(files))


def run_drop_ins(args: argparse.Namespace, table: Table) -> None:
    rng = random.Random(args.seed)
    # A build server of this run's own (any OPTGYM_ setting keys it), ended at the end.
    env = {**os.environ, "OPTGYM_FUZZ_SERVER_TAG": str(os.getpid()),
           "OPTGYM_CC_SERVER_IDLE": "5"}
    with tempfile.TemporaryDirectory(prefix="fuzz-drop-ins-") as d:
        work = Path(d)
        for i in range(args.drop_ins):
            source = _csmith_source(rng.randrange(1 << 20), work)
            out = work / f"out{i}"
            if i % 2 == 0:
                bitcode = work / f"m{i}.bc"
                subprocess.run(["clang-19", "-O0", "-Xclang", "-disable-O0-optnone", "-w",
                                "-I/usr/include/csmith", "-emit-llvm", "-c", str(source), "-o",
                                str(bitcode)], check=True)
                argv = [str(BIN / "optgym-opt"), "--policy", "oz-climb", "--budget", "20",
                        str(bitcode), "-o", str(out)]
                tool = "optgym-opt"
            else:
                argv = [str(BIN / "optgym-cc"), "-Oz", "-w", "-I/usr/include/csmith", "-c",
                        str(source), "-o", str(out)]
                server = "1" if i % 4 == 1 else "0"
                tool = "optgym-cc" + (" +server" if server == "1" else "")
            sig, ignore = rng.choice([(signal.SIGINT, False), (signal.SIGINT, True),
                                      (signal.SIGTERM, False)])
            # SIGINT the shell told Python to ignore is seen from optgym's own code on, once
            # the interpreter has started and imported it.
            moment = rng.uniform(1.5 if ignore else 0.0, 6.0)
            started = time.monotonic()
            server_run = tool.endswith("+server")
            ok, why, orphans, leftovers = _drop_in(argv, work / f"tmp{i}", moment, sig, ignore, out,
                               {**env, "OPTGYM_CC_SERVER": "1" if server_run else "0"},
                               own_files="optgym-cc-" if server_run else "")
            name = signal.Signals(sig).name + (" (inherited SIG_IGN)" if ignore else "")
            table.add(f"{tool} {name} at a random moment", ok, time.monotonic() - started,
                      note=why)
            table.add("drop-ins: no process left after exit", not orphans)
            table.add("drop-ins: no temporary file left", not leftovers)
        _stop_build_server(env)


def _stop_build_server(env: dict[str, str]) -> None:
    code = ("import os, signal, socket, struct\nfrom optgym import ccserver\n"
            "with socket.socket(socket.AF_UNIX) as c:\n"
            "    c.connect(str(ccserver.socket_path()))\n"
            "    pid = struct.unpack('3i', c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]\n"
            "os.kill(pid, signal.SIGTERM)\n")
    subprocess.run([sys.executable, "-c", code], env={**env, "OPTGYM_CC_SERVER": "1"},
                   capture_output=True)


# -- hostile inputs -----------------------------------------------------------------------------
def _hostile_result_file(rng: random.Random, directory: Path, i: int) -> Path:
    header = {"format": "optgym-leaderboard-results-v1", "task": "builtin-test-ic-v0",
              "policy": "p", "budget": {"seconds": 30}}
    rows = "benchmark,reward,walltime,commandline\n"
    kind = rng.choice(["deep", "wide", "junk", "nul", "ragged", "types", "numbers"])
    if kind == "deep":
        depth = rng.choice([33, 1000, 100_000])
        raw = json.dumps({**header, "notes": "X"}).replace('"X"', "[" * depth + "]" * depth)
    else:
        raw = json.dumps(header)
    if kind == "wide":
        rows += f"benchmark://builtin-v0/crc32,0,1,opt-19 {'x' * rng.randint(65_537, 1 << 20)}\n"
    elif kind == "junk":
        rows = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4000))).decode("latin-1")
    elif kind == "nul":
        rows += "benchmark://builtin-v0/crc32,0\0,1,opt-19\n"
    elif kind == "ragged":
        rows += "a,b\nc,d,e,f,g\n" * rng.randint(1, 50)
    elif kind == "types":
        raw = json.dumps({**header, "budget": [1, 2], "failures": "x", "machine": 3})
    else:
        rows += "benchmark://builtin-v0/crc32,1e999999,nan,opt-19 -passes=x input.bc -o o\n"
    path = directory / f"r{i}-{kind}.csv"
    path.write_text(rows, errors="surrogateescape")
    path.with_suffix(".json").write_text(raw)
    return path


def _member(tar: tarfile.TarFile, name: str, kind: bytes = tarfile.REGTYPE, link: str = "",
            data: bytes = b"", pax: dict | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    if pax:
        info.pax_headers = pax
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


#: Hostile tar members, by name: each adds its members after a harmless one.
_TAR_ATTACKS = {
    "dotdot": lambda tar, rng, out: _member(tar, "ds/" + "../" * rng.randint(2, 9) + "pwned",
                                            data=b"x"),
    "absolute": lambda tar, rng, out: _member(tar, str(out / "pwned"), data=b"x"),
    "symlink": lambda tar, rng, out: (_member(tar, "ds/l", tarfile.SYMTYPE, str(out)),
                                      _member(tar, "ds/l/pwned", data=b"x")),
    "hardlink": lambda tar, rng, out: _member(tar, "ds/h", tarfile.LNKTYPE, str(out / "victim")),
    "device": lambda tar, rng, out: _member(tar, "ds/dev",
                                            rng.choice([tarfile.CHRTYPE, tarfile.BLKTYPE])),
    "fifo": lambda tar, rng, out: _member(tar, "ds/fifo", tarfile.FIFOTYPE),
    "pax-bomb": lambda tar, rng, out: _member(tar, "ds/big",
                                              pax={"size": str(rng.randint(1, 8) << 30)}),
    "members": lambda tar, rng, out: [_member(tar, f"ds/m{k}")
                                      for k in range(rng.randint(2_001, 5_000))],
    "longname": lambda tar, rng, out: _member(tar, "ds/" + "n" * (2 << 20), data=b"x"),
}


def _hostile_zip(rng: random.Random, kind: str, outside: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ok.bc", b"BC")
        if kind == "zip-dotdot":
            zf.writestr("../" * rng.randint(1, 5) + "pwned", b"x")
        elif kind == "zip-symlink":
            info = zipfile.ZipInfo("link")
            info.external_attr = 0o120777 << 16
            zf.writestr(info, str(outside))
        else:
            zf.writestr("zeros", bytes(rng.randint(150, 250) << 20))
    return buf.getvalue()


def _hostile_archive(rng: random.Random, directory: Path, outside: Path, i: int) -> Path:
    kind = rng.choice([*_TAR_ATTACKS, "bomb", "zip-dotdot", "zip-symlink", "zip-bomb",
                       "not-an-archive"])
    path = directory / f"a{i}-{kind}"
    if kind.startswith("zip"):
        path.write_bytes(_hostile_zip(rng, kind, outside))
    elif kind == "bomb":  # one member declaring GiBs, in a few MB
        info = tarfile.TarInfo("bomb")
        info.size = rng.randint(1, 4) << 30
        mib = _gzip(bytes(1 << 20))
        path.write_bytes(_gzip(info.tobuf(format=tarfile.GNU_FORMAT)) + mib * 64
                         + _gzip(bytes(1024)))
    elif kind == "not-an-archive":
        path.write_bytes(bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 5000))))
    else:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
            _member(tar, "ds/ok.bc", data=b"BC")
            _TAR_ATTACKS[kind](tar, rng, outside)
        path.write_bytes(buf.getvalue())
    return path


def run_hostile(args: argparse.Namespace, table: Table) -> None:
    from optgym.datasets.remote import extract_archive
    from optgym.leaderboard.validate import validate_file

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="fuzz-hostile-") as d:
        work = Path(d)
        outside = work / "outside"
        outside.mkdir()
        (outside / "victim").write_text("original")
        os.environ["OPTGYM_MAX_ARCHIVE_MEMBERS"] = "2000"  # small, to keep the runs short
        try:
            for i in range(args.hostile):
                kind, started = "result file", time.monotonic()
                try:
                    if i % 2:
                        report = validate_file(_hostile_result_file(rng, work, i),
                                               progress=False)
                        ok, note = not report.ok, "" if not report.ok else "accepted"
                    else:
                        kind = "archive"
                        dest = work / f"dest{i}"
                        dest.mkdir()
                        extract_archive(_hostile_archive(rng, work, outside, i), dest, what="x")
                        ok, note = False, "accepted"
                except OptgymError as exc:
                    ok, note = True, ""
                    if kind == "archive" and any(dest.iterdir()):
                        ok, note = False, f"left files in its destination: {exc}"
                except Exception:  # noqa: BLE001 - what the benchmark is looking for
                    ok, note = False, traceback.format_exc(-1)
                if sorted(p.name for p in outside.iterdir()) != ["victim"]:
                    ok, note = False, "wrote outside the destination"
                table.add(f"hostile {kind}: typed refusal, nothing written", ok,
                          time.monotonic() - started, note=note)
        finally:
            del os.environ["OPTGYM_MAX_ARCHIVE_MEMBERS"]


_REFUSE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from optgym.datasets.remote import extract_archive
    from optgym.errors import OptgymError
    start = time.process_time()
    try:
        extract_archive(Path(sys.argv[1]), Path(sys.argv[2]), what="x")
        print("accepted")
    except OptgymError as exc:
        print(type(exc).__name__)
    peak = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]) / 1024
    print(time.process_time() - start, peak)
""")


def run_big_archives(table: Table) -> None:
    sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
    from test_hostile_archives import _bomb_tar_gz, _many_members_tar_gz

    with tempfile.TemporaryDirectory(prefix="fuzz-big-") as d:
        work = Path(d)
        for name, make, cpu_target in [
            ("600,000-member .tar.gz", lambda p: _many_members_tar_gz(p, 600_000), 5.0),
            ("2 GiB gzip bomb", lambda p: _bomb_tar_gz(p, 2 << 30, False), 2.0),
        ]:
            archive = make(work / "a.tar.gz")
            dest = work / "dest"
            dest.mkdir()
            started = time.monotonic()
            proc = subprocess.run([sys.executable, "-c", _REFUSE, str(archive), str(dest)],
                                  capture_output=True, text=True, check=True)
            wall = time.monotonic() - started
            verdict, cost = proc.stdout.split("\n")[:2]
            cpu, peak = map(float, cost.split())
            ok = verdict == "LimitExceeded" and cpu < cpu_target and peak < 100
            table.add(f"{name}: refused (CPU {cpu:.2f} s, peak {peak:.0f} MB)", ok, wall)
            archive.unlink()
            dest.rmdir()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=120)
    parser.add_argument("--steps", type=int, default=25, help="actions per episode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="pass time-out, seconds")
    parser.add_argument("--interrupt-prob", type=float, default=0.05,
                        help="chance that a step is interrupted at a random moment")
    parser.add_argument("--kill-prob", type=float, default=0.0,
                        help="chance that the worker is SIGKILLed at a random moment of a step")
    parser.add_argument("--idle-kill-prob", type=float, default=0.0,
                        help="chance that the worker is SIGKILLed between two steps")
    parser.add_argument("--stop-prob", type=float, default=0.0,
                        help="chance that the worker is SIGSTOPped mid-step (each costs the "
                             "pass time-out)")
    parser.add_argument("--drop-ins", type=int, default=0,
                        help="optgym-opt and optgym-cc runs to interrupt at random moments")
    parser.add_argument("--hostile", type=int, default=0,
                        help="random hostile result files and archives to refuse")
    parser.add_argument("--verbose", action="store_true",
                        help="print every refused reset and each desynchronized episode's steps")
    parser.add_argument("--big-archives", action="store_true",
                        help="refuse a 600,000-member archive and a 2 GiB bomb, measured")
    args = parser.parse_args()
    table = Table()
    start = time.monotonic()
    if args.episodes:
        run_episodes(args, table)
    if args.drop_ins:
        run_drop_ins(args, table)
    if args.hostile:
        run_hostile(args, table)
    if args.big_archives:
        run_big_archives(table)
    table.print()
    print(f"\n{table.summary()}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"\n{time.monotonic() - start:.0f} s wall, {usage.ru_utime + usage.ru_stime:.0f} s "
          f"CPU in this process; {table.failures()} failures")
    return 1 if table.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
