"""The learned size inliner's policy: two linear heads over a call site's standardized
features, stored as numpy arrays so that the drop-ins use it without importing torch.

The *gate* says whether to take the call site out of LLVM's hands (``gate(z) > 0``); when it
does, the *direction* says inline (``direction(z) > 0``) or not. Every other call site is left
to LLVM's own heuristic, so a policy whose gate never opens is clang -Oz exactly, and what it
learns is where clang -Oz's inliner is wrong for size. The shipped model is
``optgym/agents/inliner/model/inliner.npz`` with ``metadata.json`` beside it (how it was
trained and what it achieved on the validation projects).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optgym.envs.llvm.inline import FEATURES, CallSite, InlineEpisode
from optgym.errors import OptgymError
from optgym.llvm.inlining import Chain

MODEL_DIR = Path(__file__).parent / "model"
MODEL_FILE = MODEL_DIR / "inliner.npz"
_N = len(FEATURES)


@dataclass
class InlinerPolicy:
    """The policy's parameters: feature normalization and the two heads."""

    mean: np.ndarray
    std: np.ndarray
    gate: np.ndarray
    gate_bias: float
    direction: np.ndarray
    direction_bias: float
    metadata: dict[str, Any] = field(default_factory=dict)
    #: the parameters of the alone operating point, when trained apart (see operating_point)
    alone: InlinerPolicy | None = None

    def flat(self) -> np.ndarray:
        """The trainable parameters as one vector (what evolution strategies perturb)."""
        return np.concatenate([self.gate, [self.gate_bias], self.direction, [self.direction_bias]])

    def with_flat(self, theta: np.ndarray) -> InlinerPolicy:
        """A policy with the same normalization and parameters ``theta``."""
        theta = np.asarray(theta, float)
        return InlinerPolicy(self.mean, self.std, theta[:_N], float(theta[_N]),
                             theta[_N + 1:2 * _N + 1], float(theta[2 * _N + 1]), self.metadata)


    def shifted(self, shift: float) -> InlinerPolicy:
        """The same policy with its gate ``shift`` more closed (a large shift: clang -Oz)."""
        return InlinerPolicy(self.mean, self.std, self.gate, self.gate_bias - float(shift),
                             self.direction, self.direction_bias, self.metadata)

    def operating_point(self, name: str) -> InlinerPolicy:
        """The policy at one of the operating points its training chose (``metadata``):
        ``drop_in`` (as trained: a candidate the drop-ins keep only when it beats the rest) or
        ``alone`` (the gate shift that did best used alone, with no -Oz to fall back on)."""
        if name == "drop_in":
            return self
        if name == "alone":
            if self.alone is not None:
                return self.alone
            return self.shifted(float(self.metadata.get("alone_shift", 0.0)))
        raise OptgymError(f"unknown operating point {name!r}; expected drop_in or alone")

    def choice(self, x: np.ndarray) -> bool | None:
        """For one feature vector: True (inline), False (do not), None (LLVM decides)."""
        z = (np.asarray(x, float) - self.mean) / self.std
        if float(self.gate @ z + self.gate_bias) <= 0.0:
            return None
        return float(self.direction @ z + self.direction_bias) > 0.0

    def __call__(self, episode: InlineEpisode, site: CallSite) -> bool | None:
        return self.choice(episode.features(site))

    def decide(self, prepared: Any,
               features: Callable[[InlineEpisode, CallSite], np.ndarray] | None = None
               ) -> dict[Chain, bool]:
        """The policy's decisions on a prepared module (one episode of the environment's model,
        no compilation): the call sites it takes, each inline or not. ``features(episode,
        site)`` replaces the features it sees (for ablations)."""
        episode = InlineEpisode(prepared.observation, prepared.names)
        while episode.current is not None:
            site = episode.current
            x = episode.features(site) if features is None else features(episode, site)
            episode.decide(self.choice(x))
        return dict(episode.decisions)

    # -- files ---------------------------------------------------------------------------------
    def save(self, path: str | Path, metadata: Mapping[str, Any] | None = None) -> None:
        """Write the arrays to ``path`` (.npz) and the metadata to ``metadata.json`` beside it."""
        from optgym.cache import atomic_write

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        import io

        buffer = io.BytesIO()
        extra = {} if self.alone is None else {"alone": self.alone.flat()}
        np.savez(buffer, mean=self.mean, std=self.std, gate=self.gate,
                 gate_bias=np.asarray([self.gate_bias]), direction=self.direction,
                 direction_bias=np.asarray([self.direction_bias]), features=np.asarray(FEATURES),
                 **extra)
        atomic_write(path, buffer.getvalue())
        meta = {**self.metadata, **dict(metadata or {}), "features": list(FEATURES)}
        atomic_write(path.with_name("metadata.json"),
                     json.dumps(meta, indent=2, sort_keys=True).encode())

    @classmethod
    def load(cls, path: str | Path = MODEL_FILE) -> InlinerPolicy:
        """Read a policy written by :meth:`save`; OptgymError naming the file when it is not
        one, or was trained on other features."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError) as exc:
            raise OptgymError(f"{path}: not an inliner model ({exc})") from None
        missing = {"mean", "std", "gate", "gate_bias", "direction", "direction_bias",
                   "features"} - set(arrays)
        if missing:
            raise OptgymError(f"{path}: not an inliner model (lacks {', '.join(sorted(missing))})")
        if tuple(str(f) for f in arrays["features"]) != FEATURES:
            raise OptgymError(f"{path}: trained on other features than this optgym computes; "
                              "retrain it with `optgym train inliner`")
        meta_path = path.with_name("metadata.json")
        metadata = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        policy = cls(arrays["mean"], arrays["std"], arrays["gate"], float(arrays["gate_bias"][0]),
                     arrays["direction"], float(arrays["direction_bias"][0]), metadata)
        if "alone" in arrays:
            policy.alone = policy.with_flat(arrays["alone"])
            policy.alone.metadata = metadata
        return policy


def shipped_policy() -> InlinerPolicy | None:
    """The model that ships with optgym, or None when there is none (a source tree without it)."""
    if not MODEL_FILE.exists():
        return None
    return InlinerPolicy.load(MODEL_FILE)
