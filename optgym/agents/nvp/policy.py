"""The NVP inference policy: rank the coreset for this program, try the best ones within the
budget, keep the smallest result, and never return anything worse than -Oz.

Each coreset sequence tried costs one compilation and so does -Oz, which is always measured:
with a budget of B compilations the policy tries the top B - 1 sequences.
"""

from __future__ import annotations

import json
import math
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
