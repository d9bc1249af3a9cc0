"""The NVP inference policy: rank the coreset for this program, try the best ones within the
budget, keep the smallest result, and never return anything worse than -Oz.

Each coreset sequence tried costs one compilation and so does -Oz, which is always measured:
with a budget of B compilations the policy tries the top B - 1 sequences.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from optgym.agents.base import Budget, SearchResult, result_from_env
from optgym.agents.nvp import MODEL_DIR
from optgym.envs.llvm import LlvmEnv
from optgym.errors import CompilerCrash, LlvmError, OptgymError
from optgym.llvm.passes import is_safe_pipeline, join_steps

OZ = "default<Oz>"


#: How :meth:`NvpPolicy.rank` orders the coreset: by the training programs most like this one
#: (the default; a model directory without neighbours ranks by logits), by the model's logits,
#: or by greedy coverage of all training programs alike (no model input: an ablation).
RANKINGS = ("neighbours", "logits", "training-greedy")


class NvpPolicy:
    """Coreset + normalized value prediction with the GNN model (the shipped one by default)."""

    name = "nvp"
    default_dir = MODEL_DIR

    def __init__(self, model_dir: str | Path | None = None, cost: str = "IrInstructionCount",
                 ranking: str = "neighbours"):
        if ranking not in RANKINGS:
            raise OptgymError(f"unknown NVP ranking {ranking!r}; expected one of "
                              f"{', '.join(RANKINGS)}")
        self.ranking = ranking
        self.model_dir = Path(model_dir) if model_dir else self.default_dir
        self._loaded: tuple[Any, list[list[str]], dict[str, Any]] | None = None
        self._neighbours: Any = None
        self.last_ranking_seconds = 0.0
        #: What the candidates are judged by: ``IrInstructionCount`` or ``ObjectTextSizeBytes``.
        self.cost = cost
        #: Compiler workers that measure candidates at once (the env's own and helpers);
        #: None: one per free core (:func:`optgym.cores.free_cores`).
        self.workers: int | None = None

    def _model(self) -> tuple[Any, list[list[str]], dict[str, Any]]:
        """The model (numpy when the directory has an up-to-date ``model.npz``, else torch),
        its coreset sequences and metadata; loaded once."""
        if self._loaded is None:
            if not (self.model_dir / "model.pt").is_file():
                raise OptgymError(f"no NVP model in {self.model_dir}; train one with "
                                  "`optgym train nvp`")
            from optgym.agents.nvp.inference import NumpyNvp
            from optgym.agents.nvp.neighbours import FILENAME, Neighbours

            model = NumpyNvp.load(self.model_dir)
            if model is None:
                from optgym.agents.nvp.model import load_model

                self._loaded = load_model(self.model_dir)
            else:
                self._loaded = (model, *_coreset_and_metadata(self.model_dir, model.hparams))
            if self.ranking != "logits":
                self._neighbours = Neighbours.load(self.model_dir)
            if self.ranking == "training-greedy":
                if self._neighbours is None:
                    raise OptgymError(f"{self.model_dir} has no {FILENAME}; the "
                                      "training-greedy ranking needs one")
                self._neighbours.temperature = math.inf
        return self._loaded

    def coreset(self) -> list[list[str]]:
        """The model's coreset sequences, in the coreset's own (greedy) order."""
        return [list(steps) for steps in self._model()[1]]

    def rank(self, env: LlvmEnv) -> list[list[str]]:
        """The coreset sequences, most promising first, for the program ``env`` is reset at,
        as :data:`RANKINGS` ``self.ranking`` says (see :mod:`optgym.agents.nvp.neighbours`)."""
        from optgym.agents.nvp.data import features_from_env
        from optgym.agents.nvp.inference import NumpyNvp

        model, sequences, _ = self._model()
        started = time.monotonic()
        features = features_from_env(env, model.hparams["encoder"])
        if isinstance(model, NumpyNvp):
            embedding = model.encode(features)
            if self._neighbours is not None:
                order = self._neighbours.order(embedding.astype(np.float64))
            else:
                order = np.argsort(-model.logits(embedding), kind="stable").tolist()
        else:
            order = self._rank_with_torch(model, features)
        self.last_ranking_seconds = time.monotonic() - started
        return [sequences[i] for i in order]

    def _rank_with_torch(self, model: Any, features: dict[str, np.ndarray]) -> list[int]:
        import torch

        from optgym.agents.nvp.data import to_data

        data = to_data(features, batchable=False)
        with torch.no_grad():
            embedding = model.encoder.encode(data)
            if self._neighbours is not None:
                return self._neighbours.order(embedding[0].double().numpy())
            return torch.argsort(model.head(embedding)[0], descending=True).tolist()

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        """Try the top-ranked coreset sequences within ``budget``, then -Oz; return the best."""
        if env.benchmark is None:
            raise LlvmError("reset the environment at a benchmark before searching")
        self._model()  # loading torch and the model is setup, not search: the clock starts after
        clock = budget.clock()
        if env.actions_taken:
            env.reset(options={"benchmark": env.benchmark})
        _, sequences, _ = self._model()
        limit = budget.compilations if budget.compilations is not None else len(sequences) + 1
        # -Oz first, always measured: the fallback. Then the ranked sequences while the budget
        # lasts, on this env's worker and on helper workers when cores are free. The helpers
        # start, and one measures -Oz, while the model ranks.
        evaluation = _Evaluation(env, self.cost, clock, limit, self.workers)
        try:
            ranked = self.rank(env)
            if env.actions.safe:
                # The drop-ins ask for safe passes: a model trained with more can never ship
                # one.
                ranked = [steps for steps in ranked if is_safe_pipeline(join_steps(steps))]
            candidates = [[OZ], *ranked[:max(0, limit - 1)]]
            counts = evaluation.run(candidates)
        finally:
            evaluation.close()
        if counts[0] is None:
            raise CompilerCrash(f"-Oz failed on {env.benchmark.uri}")
        best_steps, best_count = [OZ], counts[0]
        for steps, count in zip(candidates[1:], counts[1:], strict=True):
            if count is None:
                continue  # not tried, or LLVM rejects or dies on it: not a candidate
            if count < best_count or (count == best_count and len(steps) < len(best_steps)):
                best_steps, best_count = list(steps), count
        result = result_from_env(env, best_steps, clock, self.name)
        if self.cost == "IrInstructionCount" and result.instruction_count > result.oz_count:
            # stepwise replay disagreed: stay safe
            result = result_from_env(env, [OZ], clock, self.name)
        return result


class _Evaluation:
    """Measures candidate sequences, in order, on the env's worker and on helper workers (each
    its own process with its own copy of the module), as many at once as there are workers.

    Every candidate's measure is what ``env.try_steps`` gives, so the choice does not depend on
    which worker measured what: the results are read in candidate order afterwards. Helpers are
    used only when cores are free and the budget is large enough to pay for starting one. They
    start when this is made, before the candidates are known: the first candidate is always
    -Oz, which a helper measures while the caller ranks the rest.
    """

    #: Candidates per helper worker below which starting it costs more than it saves.
    MIN_PER_HELPER = 4

    def __init__(self, env: LlvmEnv, cost: str, clock: Any, limit: int, workers: int | None):
        self.env, self.cost, self.clock, self.limit = env, cost, clock, limit
        if workers is None:
            from optgym.cores import free_cores
            from optgym.llvm.session import spare_pids

            # Our own workers (one may still be loading LLVM, or spinning after a reply) are
            # not competition for the cores.
            workers = free_cores(samples=3, ours=[p for p in (env.session.pid, *spare_pids())
                                                  if p is not None])
        helpers = max(0, min(workers, limit // self.MIN_PER_HELPER) - 1)
        self.candidates: list[list[str]] = [[OZ]]  # all of them once run() is given them
        self.counts: list[int | None] = [None]
        self._known = threading.Event()  # set when the candidates are all known
        self._next = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._measure_on_helper, daemon=True)
                         for _ in range(helpers)]
        for t in self._threads:
            t.start()

    def _take(self) -> int | None:
        """The next candidate to measure, counted against the budget (waiting, before
        :meth:`run`, until the candidates are known); None when there is none."""
        while True:
            with self._lock:
                i = self._next
                if self._known.is_set() or i < len(self.candidates):
                    if (i >= len(self.candidates) or self.clock.compilations >= self.limit
                            or (i and self.clock.exhausted)):
                        return None
                    self._next += 1
                    self.clock.spend()
                    return i
            self._known.wait()

    def _measure_on_env(self) -> None:
        while (i := self._take()) is not None:
            self._measure_one_on_env(i)

    def _measure_one_on_env(self, i: int) -> None:
        try:
            self.counts[i] = self.env.try_steps(self.candidates[i], (self.cost,))[self.cost]
        except (CompilerCrash, LlvmError):
            pass

    def _measure_on_helper(self) -> None:
        from optgym.llvm.session import CompilerSession

        session = CompilerSession(timeout=self.env.session.timeout)
        try:
            module = session.load(self.env.benchmark.bitcode, self.env.benchmark.uri)
            while (i := self._take()) is not None:
                steps = self.env.episode_steps(self.candidates[i])
                try:
                    self.counts[i] = module.try_pipeline(join_steps(steps), (self.cost,))[self.cost]
                except (CompilerCrash, LlvmError):
                    pass
        except OptgymError:
            pass  # the helper could not start or load the module: the env's worker goes on
        finally:
            session.close()

    def run(self, candidates: list[list[str]]) -> list[int | None]:
        """Each candidate's measure (None: not measured within the budget, or LLVM failed);
        ``candidates[0]`` must be -Oz, the fallback, which is always measured."""
        if candidates[:1] != [[OZ]]:
            raise ValueError("the first candidate must be -Oz")
        with self._lock:
            self.candidates = [list(c) for c in candidates]
            self.counts += [None] * (len(candidates) - 1)
            self._known.set()
        # -Oz, unless a helper has taken it already, then the rest as workers come free.
        self._measure_on_env()
        for t in self._threads:
            t.join()
        if self.counts[0] is None and self._threads:
            self._measure_one_on_env(0)  # a helper took -Oz and failed: try it here
        return self.counts

    def close(self) -> None:
        """Let the helpers end (when :meth:`run` was never called) and wait for them."""
        self._known.set()
        for t in self._threads:
            t.join()


def _coreset_and_metadata(directory: Path, hparams: dict[str, Any]
                          ) -> tuple[list[list[str]], dict[str, Any]]:
    """A model directory's coreset sequences and metadata (what ``load_model`` reads besides
    the weights), checked against the model's number of outputs."""
    try:
        sequences = json.loads((directory / "coreset.json").read_text())["sequences"]
        metadata = json.loads((directory / "metadata.json").read_text())
    except (OSError, ValueError, KeyError) as exc:
        raise OptgymError(f"{directory} is not a readable NVP model directory: {exc}") from None
    if len(sequences) != hparams["k"]:
        raise OptgymError(f"{directory}: the coreset has {len(sequences)} sequences but the "
                          f"model predicts {hparams['k']}")
    return sequences, metadata


class NvpAutophasePolicy(NvpPolicy):
    """The same policy with the Autophase-MLP baseline model."""

    name = "nvp-autophase"
    default_dir = MODEL_DIR / "autophase"


def nvp_policy(model_dir: str | Path | None = None, cost: str = "IrInstructionCount",
               ranking: str = "neighbours") -> NvpPolicy:
    """Factory registered as ``nvp`` (a function, so the registry calls it with its kwargs);
    ``cost="ObjectTextSizeBytes"`` judges candidates by .text bytes instead of instructions;
    ``ranking`` is one of :data:`RANKINGS`."""
    return NvpPolicy(model_dir, cost, ranking)


def nvp_autophase_policy(model_dir: str | Path | None = None, cost: str = "IrInstructionCount",
                         ranking: str = "neighbours") -> NvpAutophasePolicy:
    """Factory registered as ``nvp-autophase``."""
    return NvpAutophasePolicy(model_dir, cost, ranking)
