"""The ``nvp`` recipe's settings, each with its one default (no torch imported here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from optgym.agents.config import RecipeConfig, check_choice


@dataclass
class PoolSettings:
    """The pool: random search on the training programs, and the reward matrix."""

    programs: list[str] | None = None  # search these URIs instead of the default training set
    csmith: int = 20  # csmith-v0 train seeds searched
    stress: int = 12  # llvm-stress-v0 train seeds searched
    builtin_split: str | None = "train"  # builtin-v0 split searched (null: none)
    realc: int = 0  # realc-v0 train modules searched per project (a fixed sample)
    seconds: float = 10.0  # random-search seconds per program at most
    episodes: int = 200  # random episodes per program at most
    keep: int = 3  # distinct best prefixes kept per program
    candidates_per_program: int | None = 2  # best prefixes of each program that become candidates
    matrix_max_o0: int | None = None  # measure bigger programs on the coreset only


@dataclass
class CoresetSettings:
    """The coreset and the programs measured on it only (extra training, validation)."""

    k: int = 50  # sequences in the coreset
    extra_programs: list[str] | None = None  # default: the csmith/stress seeds below
    validation_programs: list[str] | None = None  # default: builtin validation + val_csmith
    extra_csmith: int = 30  # more csmith train seeds measured on the coreset only
    extra_stress: int = 40  # more llvm-stress train seeds measured on the coreset only
    extra_realc: int = 0  # more realc-v0 train modules per project, on the coreset only
    extra_realc_fn: int = 0  # realc-fn-v0 train functions per project, on the coreset only
    val_csmith: int = 10  # csmith validation seeds
    val_builtin: bool = True  # with the builtin-v0 validation split
    val_realc: int = 0  # realc-v0 validation modules per project


@dataclass
class NvpConfig(RecipeConfig):
    """Coreset + normalized value prediction (the ``nvp`` recipe).

    ``workdir`` holds the resumable pool (SQLite) and coreset; the model directory goes to
    ``out`` (default: ``model/`` beside the run's checkpoints).
    """

    workdir: str = "runs/nvp/build"  # pool.sqlite, coreset.json
    out: str | None = None  # model directory written at the end
    stop_after: str = "train"  # pool, coreset or train: the last step to run
    workers: int = 2  # pool worker processes
    pool: PoolSettings = field(default_factory=PoolSettings)
    coreset: CoresetSettings = field(default_factory=CoresetSettings)
    encoder: str = "gnn"  # gnn (ProGraML) or autophase
    dim: int = 64
    layers: int = 3
    dropout: float = 0.1
    epochs: int = 40
    batch_size: int = 8
    lr: float = 0.002
    weight_decay: float = 0.0001
    temperature: float = 0.02  # of the softmax over the coreset rewards (the target)
    max_minutes: float = 15.0  # stop training after this long (the best epoch so far is kept)
    max_steps: int | None = None  # stop after this many optimizer steps (for smoke tests)
    torch_threads: int | None = None  # None: the free cores (optgym.cores; OPTGYM_THREADS)

    def __post_init__(self) -> None:
        check_choice("stop_after", self.stop_after, ("pool", "coreset", "train"))
        check_choice("encoder", self.encoder, ("gnn", "autophase"))
