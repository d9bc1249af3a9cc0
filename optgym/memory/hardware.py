"""The machines memory mapping targets: presets, and your own chip from a TOML file.

A :class:`Hardware` is a two-level memory machine: a small fast memory (a scratchpad: TPU vector
memory, an NPU's SRAM) that the mapping decides, a large slow memory (HBM, LPDDR) that holds
everything else, a compute rate, and copy (DMA) engines that move data between the two while ops
run. Copies and ops share each memory's bandwidth (see :mod:`optgym.memory.timeline`).

Why two levels and not more: the decision the environments pose is XLA's memory-space assignment,
which is a two-space decision (default and alternate memory); a middle level such as TPU v4's
128 MiB CMEM or a system cache is managed by hardware or by a different pass, and modelling it
would mean inventing its policy. The presets' descriptions name the levels left out.

A chip file (``optgym memory solve resnet18 --hardware mychip.toml``)::

    name = "mychip"
    fast_capacity = "2 MiB"          # bytes, or a string with KiB / MiB / GiB
    fast_bandwidth = 4.0e12          # bytes / second
    slow_bandwidth = 8.0e11          # bytes / second
    peak_flops = 1.0e14              # FLOP / second
    transcendental_rate = 1.0e12     # transcendental ops / second (optional: peak_flops / 4)
    copy_bandwidth = 4.0e11          # bytes / second of one copy engine (optional: slow_bandwidth)
    copy_engines = 2                 # copies in flight at once (optional: 1)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from optgym.errors import BenchmarkError


@dataclass(frozen=True)
class Hardware:
    """A two-level memory machine (see the module docstring). Rates are per second."""

    name: str
    fast_capacity: int  # bytes
    fast_bandwidth: float  # bytes / second
    slow_bandwidth: float  # bytes / second
    peak_flops: float  # FLOP / second
    description: str = ""
    copy_bandwidth: float = 0.0  # bytes / second of one copy engine; 0: slow_bandwidth
    sources: str = ""  # where the figures come from
    transcendental_rate: float = 0.0  # exp, tanh, ... per second; 0: peak_flops / 4
    copy_engines: int = 1  # copies that can run at once
    #: XLA's cost analysis "pipeline overhead window" (bytes): ops that stream from slow memory
    #: pay ``min(window, slow bytes) / bytes * compute`` extra; 0 (XLA's default) turns it off
    pipeline_window: int = 0

    def __post_init__(self) -> None:
        where = f"hardware {self.name!r}"
        for f in ("fast_capacity", "fast_bandwidth", "slow_bandwidth", "peak_flops"):
            if not getattr(self, f) > 0:
                raise BenchmarkError(f"{where}: {f} must be positive, got {getattr(self, f)!r}")
        for f in ("copy_bandwidth", "transcendental_rate", "pipeline_window"):
            if getattr(self, f) < 0:
                raise BenchmarkError(f"{where}: {f} must not be negative, got {getattr(self, f)!r}")
        if int(self.copy_engines) < 1:
            raise BenchmarkError(f"{where}: copy_engines must be at least 1, got {self.copy_engines!r}")

    @property
    def copy_bw(self) -> float:
        """Bandwidth of one copy engine (bytes / second)."""
        return self.copy_bandwidth or self.slow_bandwidth

    @property
    def trans_rate(self) -> float:
        """Transcendental operations per second."""
        return self.transcendental_rate or self.peak_flops / 4


#: Hardware presets. Bytes are counted at each tensor's traced dtype (bf16 for the shipped
#: workloads). The numbers are public, rounded, per-core figures; they set the ratios that matter
#: (fast/slow bandwidth, bytes per FLOP, copy bandwidth).
HARDWARE: dict[str, Hardware] = {
    "tpu-like": Hardware(
        name="tpu-like",
        fast_capacity=2**20,
        fast_bandwidth=9.6e12,
        slow_bandwidth=1.2e12,
        peak_flops=275e12,
        copy_bandwidth=0.6e12,
        transcendental_rate=275e12 / 16,
        description=(
            "TPU-v4-like core: HBM2 at 1.2 TB/s, 275 TFLOP/s peak (bf16 MXU rate), on-chip "
            "memory at 8x HBM bandwidth (9.6 TB/s); 1 MiB of it for the program's buffers "
            "(below the batch-1 workloads' peak live bytes, so placement matters); one DMA engine "
            "at half the HBM rate, sharing HBM with the ops; transcendentals on the vector unit "
            "at 1/16 of the matrix rate. Real levels: vector memory (modelled as fast), 128 MiB "
            "CMEM (not modelled), HBM (modelled as slow)."
        ),
        sources=("Jouppi et al., 'TPU v4: An Optically Reconfigurable Supercomputer...', ISCA 2023 "
                 "(275 TFLOP/s bf16, 1.2 TB/s HBM, 128 MiB CMEM); the on-chip bandwidth ratio, "
                 "copy rate and transcendental rate are our assumptions."),
    ),
    "edge-npu": Hardware(
        name="edge-npu",
        fast_capacity=512 * 2**10,
        fast_bandwidth=128e9,
        slow_bandwidth=17e9,
        peak_flops=4e12,
        copy_bandwidth=8.5e9,
        transcendental_rate=4e12 / 16,
        description=(
            "Edge-NPU-like accelerator: LPDDR4X at 17 GB/s, 4 TOP/s peak (int8-class MAC "
            "array), 512 KiB of SRAM at 128 GB/s; one DMA engine at half the DRAM rate. Real "
            "levels: SRAM (fast), a system cache on some SoCs (not modelled), LPDDR4X (slow)."
        ),
        sources=("LPDDR4X-4266 on a 32-bit bus = 17 GB/s (JEDEC JESD209-4-1); 4 TOP/s is the "
                 "Coral Edge TPU's published peak; SRAM size and bandwidth are our assumptions."),
    ),
}

_UNITS = {"": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "kb": 10**3, "mb": 10**6, "gb": 10**9}


def _bytes(value, where: str) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    m = re.fullmatch(r"\s*([0-9.]+(?:e[0-9+-]+)?)\s*([a-zA-Z]*)\s*", str(value))
    if not m or m.group(2).lower() not in _UNITS:
        raise BenchmarkError(f"{where}: {value!r} is not a size (e.g. 1048576 or \"1 MiB\")")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def load_hardware(path: str | Path) -> Hardware:
    """Read a chip description from a TOML file (see the module docstring for the keys)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot read the hardware file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BenchmarkError(f"{path}: not valid TOML: {exc}") from exc
    known = {f.name for f in fields(Hardware)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise BenchmarkError(f"{path}: unknown key(s) {unknown}; known: {sorted(known)}")
    missing = [k for k in ("fast_capacity", "fast_bandwidth", "slow_bandwidth", "peak_flops") if k not in data]
    if missing:
        raise BenchmarkError(f"{path}: missing key(s) {missing}")
    data.setdefault("name", path.stem)
    data["fast_capacity"] = _bytes(data["fast_capacity"], f"{path}: fast_capacity")
    if "pipeline_window" in data:
        data["pipeline_window"] = _bytes(data["pipeline_window"], f"{path}: pipeline_window")
    for k in ("fast_bandwidth", "slow_bandwidth", "peak_flops", "copy_bandwidth", "transcendental_rate"):
        if k in data and not isinstance(data[k], int | float):
            raise BenchmarkError(f"{path}: {k} must be a number, got {data[k]!r}")
    if not isinstance(data.get("copy_engines", 1), int):
        raise BenchmarkError(f"{path}: copy_engines must be an integer")
    data.setdefault("description", f"read from {path.name}")
    return Hardware(**data)


def get_hardware(name: str | Path | Hardware) -> Hardware:
    """A preset by name, a chip file (``*.toml``) by path, or a :class:`Hardware` passed through."""
    if isinstance(name, Hardware):
        return name
    if str(name).endswith(".toml"):
        return load_hardware(name)
    try:
        return HARDWARE[str(name)]
    except KeyError:
        raise BenchmarkError(
            f"unknown hardware {name!r}; choose a preset {sorted(HARDWARE)} or a chip file NAME.toml"
        ) from None
