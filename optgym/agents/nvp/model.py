"""The NVP model: an encoder (GNN over ProGraML graphs, or an MLP over Autophase) and a head
giving one logit per coreset sequence; saving and loading a model directory.

The GNN is relation-typed message passing: every flow (control, data, call, type) in each
direction is its own relation with its own message weights, each edge adds an embedding of
its position (operand or successor index), nodes start from their text and type embeddings,
and the program embedding is the mean and max of the node states.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch_geometric.utils import scatter

from optgym.agents.nvp.data import MAX_POSITION
from optgym.cache import atomic_write
from optgym.errors import OptgymError

N_FLOWS = 4
N_NODE_TYPES = 4
AUTOPHASE_DIM = 56


class RelationalLayer(nn.Module):
    """One round of message passing with per-relation weights and edge-position embeddings."""

    def __init__(self, dim: int, relations: int):
        super().__init__()
        self.relations = relations
        self.message = nn.Linear(dim, dim * relations, bias=False)
        self.position = nn.Embedding(MAX_POSITION, dim)
        self.update = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.norm = nn.LayerNorm(dim)

    def forward(self, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
                rel: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        n, d = h.shape
        per_relation = self.message(h).view(n, self.relations, d)
        msg = per_relation[src, rel] + self.position(pos)
        agg = scatter(msg, dst, dim=0, dim_size=n, reduce="mean")
        return self.norm(h + self.update(torch.cat([h, agg], dim=1)))


class GraphEncoder(nn.Module):
    """ProGraML graph → program embedding."""

    def __init__(self, vocab_size: int, dim: int = 64, layers: int = 3):
        super().__init__()
        self.text = nn.Embedding(vocab_size, dim)
        self.node_type = nn.Embedding(N_NODE_TYPES, dim)
        self.layers = nn.ModuleList(RelationalLayer(dim, 2 * N_FLOWS) for _ in range(layers))
        self.out_dim = 2 * dim

    def forward(self, data: Any) -> torch.Tensor:
        h = self.text(data.x.clamp(max=self.text.num_embeddings - 1)) + self.node_type(data.node_type)
        s, t = data.edge_index
        # Messages flow both ways; the backward direction of flow f is relation f + N_FLOWS.
        src = torch.cat([s, t])
        dst = torch.cat([t, s])
        rel = torch.cat([data.edge_type, data.edge_type + N_FLOWS])
        pos = torch.cat([data.edge_position, data.edge_position])
        for layer in self.layers:
            h = layer(h, src, dst, rel, pos)
        batch = data.batch if getattr(data, "batch", None) is not None else torch.zeros(
            h.shape[0], dtype=torch.long)
        size = int(data.num_graphs) if hasattr(data, "num_graphs") else 1
        return torch.cat([scatter(h, batch, dim=0, dim_size=size, reduce="mean"),
                          scatter(h, batch, dim=0, dim_size=size, reduce="max")], dim=1)


class AutophaseEncoder(nn.Module):
    """Log-scaled Autophase feature vector → program embedding (the baseline encoder)."""

    def __init__(self, dim: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(AUTOPHASE_DIM, 2 * dim), nn.ReLU(),
                                 nn.Linear(2 * dim, 2 * dim), nn.ReLU())
        self.out_dim = 2 * dim

    def forward(self, data: Any) -> torch.Tensor:
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
        self.encoder = (GraphEncoder(vocab_size, dim, layers) if encoder == "gnn"
                        else AutophaseEncoder(dim))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.encoder.out_dim, dim),
                                  nn.ReLU(), nn.Linear(dim, k))

    def forward(self, data: Any) -> torch.Tensor:
        return self.head(self.encoder(data))


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
    for name in ("model.pt", "coreset.json", "metadata.json"):
        (out / name).chmod(0o644)  # package data: readable by every user, like the rest


def load_model(directory: str | Path) -> tuple[NvpModel, list[list[str]], dict[str, Any]]:
    """The model, its coreset sequences and its metadata from a model directory."""
    directory = Path(directory)
    try:
        blob = torch.load(directory / "model.pt", map_location="cpu", weights_only=True)
        sequences = json.loads((directory / "coreset.json").read_text())["sequences"]
        metadata = json.loads((directory / "metadata.json").read_text())
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise OptgymError(f"{directory} is not a readable NVP model directory: {exc}") from None
    model = NvpModel(**blob["hparams"])
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in blob["state_dict"].items()})
    model.eval()
    if len(sequences) != model.hparams["k"]:
        raise OptgymError(f"{directory}: the coreset has {len(sequences)} sequences but the "
                          f"model predicts {model.hparams['k']}")
    return model, sequences, metadata
