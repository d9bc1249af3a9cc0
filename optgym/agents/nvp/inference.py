"""The NVP model's forward pass in numpy, so that ranking the coreset never imports torch.

Importing torch takes 1.5-2 s on a quiet machine (several more on a busy one), longer than
``optgym-opt`` then spends on a small module. Ranking needs only the model's encoder and head
in evaluation mode: embedding look-ups, three rounds of per-relation mean message passing, and
a few small matrix products. This module does exactly the computation of
:class:`~optgym.agents.encoders.ProgramlEncoder` / :class:`~optgym.agents.nvp.model.AutophaseEncoder`
and the head, in float32, from ``model.npz``: the same (float16) weights as ``model.pt``, written
by :func:`optgym.agents.nvp.model.export_numpy` (``save_model`` writes it too), with the sha256
of the ``model.pt`` it was exported from, so a retrained ``model.pt`` beside an old
``model.npz`` is noticed and torch is used instead. ``tests/test_nvp.py`` checks that the
rankings equal torch's on real programs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from optgym.errors import OptgymError

FILENAME = "model.npz"
#: The graph layout the encoder was written for (``optgym.programgraphs``' flows and node
#: types; the position embeddings of :mod:`optgym.agents.encoders`); stored in the export and
#: checked on load, so that an encoder change cannot silently mismatch an exported model.
N_FLOWS, N_NODE_TYPES, POSITION_EMBEDDINGS = 4, 4, 16
_LAYOUT = [N_FLOWS, N_NODE_TYPES, POSITION_EMBEDDINGS]


def source_digest(model_pt: Path) -> str:
    """The sha256 of a ``model.pt``, as recorded in the ``model.npz`` exported from it."""
    return hashlib.sha256(model_pt.read_bytes()).hexdigest()


class NumpyNvp:
    """An NVP model (encoder and head) evaluated with numpy; see the module docstring."""

    def __init__(self, hparams: dict[str, Any], weights: dict[str, np.ndarray]):
        self.hparams = hparams
        self.w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}

    @classmethod
    def load(cls, directory: str | Path) -> NumpyNvp | None:
        """The exported model of a model directory; None when it has none, or when it was
        exported from another ``model.pt`` than the one there now (use torch then)."""
        directory = Path(directory)
        path = directory / FILENAME
        if not path.is_file():
            return None
        try:
            with np.load(path) as f:
                meta = json.loads(str(f["meta"]))
                weights = {k: f[k] for k in f.files if k != "meta"}
        except (OSError, ValueError, KeyError) as exc:
            raise OptgymError(f"{path} is not a readable exported NVP model: {exc}") from None
        if meta.get("layout") != _LAYOUT:
            return None
        pt = directory / "model.pt"
        if pt.is_file() and meta.get("source_sha256") != source_digest(pt):
            return None
        return cls(meta["hparams"], weights)

    # -- the encoders ---------------------------------------------------------------------------
    def encode(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """The program embedding (``out_dim``,) of one program's feature arrays (the
        ``autophase`` vector, and for the GNN the ``nodes``/``edges``/``links`` of its graph)."""
        if self.hparams["encoder"] == "autophase":
            x = np.log1p(np.maximum(np.asarray(features["autophase"], np.float64), 0))
            x = x.astype(np.float32)
            x = _relu(_linear(x, self.w, "encoder.net.0"))
            return _relu(_linear(x, self.w, "encoder.net.2"))
        return self._encode_graph(features["nodes"], features["edges"], features["links"])

    def _encode_graph(self, nodes: Any, edges: Any, links: Any) -> np.ndarray:
        w = self.w
        nodes = np.asarray(nodes, dtype=np.int64).reshape(-1, 2)
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        links = np.asarray(links, dtype=np.int64).reshape(-1, 2)
        text, kinds = w["encoder.text.weight"], w["encoder.node_type.weight"]
        h = (text[np.clip(nodes[:, 1], 0, len(text) - 1)]
             + kinds[np.clip(nodes[:, 0], 0, N_NODE_TYPES - 1)])
        n, dim = h.shape
        if n == 0:
            return np.zeros(2 * dim, dtype=np.float32)
        relations = 2 * N_FLOWS
        flow = np.clip(edges[:, 0], 0, N_FLOWS - 1)
        rel = np.concatenate([flow, flow + N_FLOWS])
        pos = np.clip(edges[:, 1], 0, POSITION_EMBEDDINGS - 1)
        s, t = links[:, 0], links[:, 1]
        mean = _SlotMean(np.concatenate([s, t]) * relations + rel,
                         np.concatenate([t, s]) * relations + rel,
                         rel * POSITION_EMBEDDINGS + np.concatenate([pos, pos]), n * relations)
        layer = 0
        while f"encoder.layers.{layer}.message.weight" in w:
            p = f"encoder.layers.{layer}."
            position = w[p + "position.weight"]
            width = position.shape[1]
            m = (h @ w[p + "message.weight"].T).reshape(n * relations, width)
            agg = mean.of_nodes(m) + mean.of_kinds(position)
            update = _relu(_linear(np.concatenate([h, agg.reshape(n, relations * width)], 1),
                                   w, p + "update"))
            h = _layer_norm(h + update, w[p + "norm.weight"], w[p + "norm.bias"])
            layer += 1
        return np.concatenate([h.mean(axis=0), h.max(axis=0)])

    def logits(self, embedding: np.ndarray) -> np.ndarray:
        """One logit per coreset sequence (the head, in evaluation mode: no dropout)."""
        x = np.asarray(embedding, dtype=np.float32)
        return _linear(_relu(_linear(x, self.w, "head.1")), self.w, "head.3")


class _SlotMean:
    """Per-slot means over a graph's edges, as :class:`~optgym.agents.encoders.EdgeMean`
    computes them with sparse matrices: edges sorted by target slot, summed per segment."""

    def __init__(self, src: np.ndarray, dst: np.ndarray, kind: np.ndarray, slots: int):
        order = np.argsort(dst, kind="stable")
        self.src, self.kind, dst = src[order], kind[order], dst[order]
        self.slots = slots
        if len(dst):
            starts = np.flatnonzero(np.r_[True, dst[1:] != dst[:-1]])
            self.targets = dst[starts]
            self.starts = starts
            self.scale = (1.0 / np.diff(np.r_[starts, len(dst)])).astype(np.float32)[:, None]
        else:
            self.targets = self.starts = np.zeros(0, dtype=np.int64)
            self.scale = np.zeros((0, 1), dtype=np.float32)

    def _mean(self, values: np.ndarray, index: np.ndarray) -> np.ndarray:
        out = np.zeros((self.slots, values.shape[1]), dtype=np.float32)
        if len(self.starts):
            out[self.targets] = np.add.reduceat(values[index], self.starts, axis=0) * self.scale
        return out

    def of_nodes(self, messages: np.ndarray) -> np.ndarray:
        """Each slot's mean of the messages its edges carry from their source slots."""
        return self._mean(messages, self.src)

    def of_kinds(self, embeddings: np.ndarray) -> np.ndarray:
        """Each slot's mean of its edges' (relation, position) embeddings."""
        return self._mean(embeddings, self.kind)


def _linear(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ w[name + ".weight"].T + w[name + ".bias"]


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                eps: float = 1e-5) -> np.ndarray:
    mu = x.mean(axis=1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * weight + bias
