"""The NVP inference policy: rank the coreset for this program, try the best ones within the
budget, keep the smallest result, and never return anything worse than -Oz.

Each coreset sequence tried costs one compilation and so does -Oz, which is always measured:
with a budget of B compilations the policy tries the top B - 1 sequences.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

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

    def _model(self) -> tuple[Any, list[list[str]], dict[str, Any]]:
        if self._loaded is None:
            from optgym.agents.nvp.model import load_model

            if not (self.model_dir / "model.pt").is_file():
                raise OptgymError(f"no NVP model in {self.model_dir}; train one with "
                                  "`optgym train nvp`")
            from optgym.agents.nvp.neighbours import FILENAME, Neighbours

            self._loaded = load_model(self.model_dir)
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
        import torch

        from optgym.agents.nvp.data import features_from_env, to_data

        model, sequences, _ = self._model()
        started = time.monotonic()
        data = to_data(features_from_env(env, model.hparams["encoder"]), batchable=False)
        with torch.no_grad():
            embedding = model.encoder.encode(data)
            if self._neighbours is not None:
                order = self._neighbours.order(embedding[0].double().numpy())
            else:
                order = torch.argsort(model.head(embedding)[0], descending=True).tolist()
        self.last_ranking_seconds = time.monotonic() - started
        return [sequences[i] for i in order]

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        """Try the top-ranked coreset sequences within ``budget``, then -Oz; return the best."""
        if env.benchmark is None:
            raise LlvmError("reset the environment at a benchmark before searching")
        self._model()  # loading torch and the model is setup, not search: the clock starts after
        clock = budget.clock()
        if env.actions_taken:
            env.reset(options={"benchmark": env.benchmark})
        ranked = self.rank(env)
        if env.actions.safe:
            # The drop-ins ask for safe passes: a model trained with more can never ship one.
            ranked = [steps for steps in ranked if is_safe_pipeline(join_steps(steps))]
        limit = budget.compilations if budget.compilations is not None else len(ranked) + 1
        cost = (self.cost,)
        clock.spend()  # -Oz, always measured: the fallback
        best_steps, best_count = [OZ], env.try_steps([OZ], cost)[self.cost]
        for steps in ranked:
            if clock.exhausted or clock.compilations >= limit:
                break
            clock.spend()
            try:
                count = env.try_steps(steps, cost)[self.cost]
            except (CompilerCrash, LlvmError):
                continue  # a sequence LLVM rejects or dies on is simply not a candidate
            if count < best_count or (count == best_count and len(steps) < len(best_steps)):
                best_steps, best_count = list(steps), count
        result = result_from_env(env, best_steps, clock, self.name)
        if self.cost == "IrInstructionCount" and result.instruction_count > result.oz_count:
            # stepwise replay disagreed: stay safe
            result = result_from_env(env, [OZ], clock, self.name)
        return result


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
