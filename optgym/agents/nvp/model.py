"""The NVP model: an encoder (the shared :class:`~optgym.agents.encoders.ProgramlEncoder`
over ProGraML graphs, or an MLP over Autophase) and a head giving one logit per coreset
sequence; saving and loading a model directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from optgym.agents.encoders import AUTOPHASE_SIZE, ProgramlEncoder
from optgym.cache import atomic_write
from optgym.errors import OptgymError


class AutophaseEncoder(nn.Module):
    """Log-scaled Autophase feature vector → program embedding (the baseline encoder)."""

    def __init__(self, dim: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(AUTOPHASE_SIZE, 2 * dim), nn.ReLU(),
                                 nn.Linear(2 * dim, 2 * dim), nn.ReLU())
        self.out_dim = 2 * dim

    def encode(self, data: Any) -> torch.Tensor:
        """Encode a batch of :func:`~optgym.agents.nvp.data.to_data` inputs."""
        return self.net(data.autophase)


class NvpModel(nn.Module):
    """Encoder → K logits, one per coreset sequence (higher: try earlier)."""

    def __init__(self, k: int, encoder: str = "gnn", dim: int = 64, layers: int = 3,
                 vocab_size: int = 128, dropout: float = 0.1):
        super().__init__()
        if encoder not in ("gnn", "autophase"):
            raise OptgymError(f"unknown NVP encoder {encoder!r}; use 'gnn' or 'autophase'")
        self.hparams = {"k": k, "encoder": encoder, "dim": dim, "layers": layers,
                        "vocab_size": vocab_size, "dropout": dropout}
        self.encoder: nn.Module = (ProgramlEncoder(vocab_size, dim, layers) if encoder == "gnn"
                                   else AutophaseEncoder(dim))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.encoder.out_dim, dim),
                                  nn.ReLU(), nn.Linear(dim, k))

    def forward(self, data: Any) -> torch.Tensor:
        return self.head(self.encoder.encode(data))


def save_model(model: NvpModel, coreset: dict[str, Any], metadata: dict[str, Any],
               out: str | Path) -> None:
    """Write ``model.pt``, ``coreset.json`` and ``metadata.json`` to ``out`` (atomically each)."""
    import io

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save({"hparams": model.hparams,
                "state_dict": {k: v.detach().cpu().half() if v.is_floating_point() else v
                               for k, v in model.state_dict().items()}}, buf)
    atomic_write(out / "model.pt", buf.getvalue())
    keep = {k: coreset[k] for k in ("sequences", "objective", "pool_programs", "pool_candidates",
                                    "pool_geomean", "pool_geomean_all_candidates",
                                    "pool_geomean_best_single") if k in coreset}
    atomic_write(out / "coreset.json", json.dumps(keep, indent=1).encode())
    atomic_write(out / "metadata.json", json.dumps(metadata, indent=1).encode())
    export_numpy(out)
    for name in ("model.pt", "coreset.json", "metadata.json", "model.npz"):
        (out / name).chmod(0o644)  # package data: readable by every user, like the rest


def export_numpy(directory: str | Path) -> Path:
    """Write ``model.npz`` beside a directory's ``model.pt``: the same weights, for
    :class:`~optgym.agents.nvp.inference.NumpyNvp`, which ranks without importing torch.
    Returns its path."""
    import io

    import numpy as np

    from optgym.agents import encoders
    from optgym.agents.nvp import inference

    directory = Path(directory)
    pt = directory / "model.pt"
    try:
        blob = torch.load(pt, map_location="cpu", weights_only=True)
        hparams, state = blob["hparams"], blob["state_dict"]
    except (OSError, KeyError, RuntimeError) as exc:
        raise OptgymError(f"{pt} is not a readable NVP model: {exc}") from None
    meta = {"hparams": hparams, "source_sha256": inference.source_digest(pt),
            "layout": [encoders.N_FLOWS, encoders.N_NODE_TYPES, encoders.POSITION_EMBEDDINGS]}
    arrays = {k: v.detach().cpu().numpy() for k, v in state.items() if v.is_floating_point()}
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    path = directory / inference.FILENAME
    atomic_write(path, buf.getvalue())
    return path


def load_model(directory: str | Path) -> tuple[NvpModel, list[list[str]], dict[str, Any]]:
    """The model, its coreset sequences and its metadata from a model directory."""
    directory = Path(directory)
    try:
        blob = torch.load(directory / "model.pt", map_location="cpu", weights_only=True)
        sequences = json.loads((directory / "coreset.json").read_text())["sequences"]
        metadata = json.loads((directory / "metadata.json").read_text())
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise OptgymError(f"{directory} is not a readable NVP model directory: {exc}") from None
    try:
        model = NvpModel(**blob["hparams"])
        model.load_state_dict({k: v.float() if v.is_floating_point() else v
                               for k, v in blob["state_dict"].items()})
    except (TypeError, KeyError, RuntimeError) as exc:
        # An older model format (other layer names or settings) fails here.
        raise OptgymError(f"{directory / 'model.pt'} is not a model this version of optgym "
                          f"can load (retrain it with `optgym train nvp`): {exc}") from None
    model.eval()
    if len(sequences) != model.hparams["k"]:
        raise OptgymError(f"{directory}: the coreset has {len(sequences)} sequences but the "
                          f"model predicts {model.hparams['k']}")
    return model, sequences, metadata
