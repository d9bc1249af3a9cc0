"""Program encoders shared by every learned agent: ProGraML graphs and Autophase vectors to a
fixed-size program embedding (torch).

:class:`ProgramlEncoder` is relation-typed message passing over the ``Programl`` observation:
every flow (control, data, call, type) in each direction is its own relation with its own
message weights, each edge adds an embedding of its position (operand or successor index),
nodes start from their text and node-type embeddings, and the program embedding is the mean
and the max of the final node states. The flow and node-type counts come from
:mod:`optgym.programgraphs`, the Autophase size from the environment's observation space.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch_geometric.utils import scatter

from optgym.envs.llvm.spaces import observation_spec
from optgym.programgraphs import FLOWS, NODE_TYPES

#: Flows of a ProGraML graph; messages also run backwards, as relation ``flow + N_FLOWS``.
N_FLOWS = len(FLOWS)
#: Node types of a ProGraML graph (instruction, variable, constant, type).
N_NODE_TYPES = len(NODE_TYPES)
#: Length of the ``Autophase`` observation vector.
AUTOPHASE_SIZE = int(observation_spec("Autophase").space.shape[0])
#: Edge positions at or above this share one embedding (operand and successor indices are
#: mostly small; the graph itself keeps the exact position).
POSITION_EMBEDDINGS = 16


class RelationalLayer(nn.Module):
    """One round of message passing with per-relation weights and edge-position embeddings."""

    def __init__(self, dim: int, relations: int):
        super().__init__()
        self.relations = relations
        self.message = nn.Linear(dim, dim * relations, bias=False)
        self.position = nn.Embedding(POSITION_EMBEDDINGS, dim)
        self.update = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.norm = nn.LayerNorm(dim)

    def forward(self, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
                rel: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        n, d = h.shape
        per_relation = self.message(h).view(n, self.relations, d)
        msg = per_relation[src, rel] + self.position(pos)
        agg = scatter(msg, dst, dim=0, dim_size=n, reduce="mean")
        return self.norm(h + self.update(torch.cat([h, agg], dim=1)))


class ProgramlEncoder(nn.Module):
    """A batch of ProGraML graphs -> one embedding of size ``out_dim`` (= 2 * dim) per graph.

    Args:
        vocab_size: node-text vocabulary size (ids at or above it share the last embedding).
        dim: node state size.
        layers: rounds of message passing.
    """

    def __init__(self, vocab_size: int, dim: int = 64, layers: int = 3):
        super().__init__()
        self.text = nn.Embedding(vocab_size, dim)
        self.node_type = nn.Embedding(N_NODE_TYPES, dim)
        self.layers = nn.ModuleList(RelationalLayer(dim, 2 * N_FLOWS) for _ in range(layers))
        self.out_dim = 2 * dim

    def forward(self, text: torch.Tensor, node_type: torch.Tensor, edge_index: torch.Tensor,
                edge_type: torch.Tensor, edge_position: torch.Tensor, batch: torch.Tensor,
                num_graphs: int) -> torch.Tensor:
        """Node ids ``text``/``node_type`` (N,), ``edge_index`` (2, E) with ``edge_type`` and
        ``edge_position`` (E,), ``batch`` (N,) the graph of each node."""
        h = (self.text(text.clamp(0, self.text.num_embeddings - 1))
             + self.node_type(node_type.clamp(0, N_NODE_TYPES - 1)))
        s, t = edge_index
        pos = edge_position.clamp(0, POSITION_EMBEDDINGS - 1)
        src, dst = torch.cat([s, t]), torch.cat([t, s])
        rel = torch.cat([edge_type, edge_type + N_FLOWS])
        pos = torch.cat([pos, pos])
        for layer in self.layers:
            h = layer(h, src, dst, rel, pos)
        return torch.cat([scatter(h, batch, dim=0, dim_size=num_graphs, reduce="mean"),
                          scatter(h, batch, dim=0, dim_size=num_graphs, reduce="max")], dim=1)

    def encode(self, data: Any) -> torch.Tensor:
        """Encode a ``torch_geometric`` ``Data``/``Batch`` with the fields :func:`graph_data`
        makes."""
        batch = getattr(data, "batch", None)
        if batch is None:
            batch = torch.zeros(data.x.shape[0], dtype=torch.long, device=data.x.device)
        num_graphs = int(getattr(data, "num_graphs", 1))
        return self(data.x, data.node_type, data.edge_index, data.edge_type, data.edge_position,
                    batch, num_graphs)


def graph_data(nodes: Any, edges: Any, links: Any) -> Any:
    """A ``torch_geometric.data.Data`` from the ``Programl`` observation's arrays: ``nodes``
    ``[type, text]``, ``edges`` ``[flow, position]``, ``links`` ``[source, target]``."""
    import numpy as np
    from torch_geometric.data import Data

    nodes = np.asarray(nodes, dtype=np.int64).reshape(-1, 2)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    links = np.asarray(links, dtype=np.int64).reshape(-1, 2)
    return Data(
        x=torch.from_numpy(nodes[:, 1].copy()),
        node_type=torch.from_numpy(nodes[:, 0].copy()),
        edge_index=torch.from_numpy(links.T.copy()),
        edge_type=torch.from_numpy(edges[:, 0].copy()),
        edge_position=torch.from_numpy(edges[:, 1].copy()),
        num_nodes=len(nodes),
    )


def log_autophase(values: torch.Tensor) -> torch.Tensor:
    """Autophase counts on a log scale (``log1p``), the input every Autophase model takes."""
    return torch.log1p(values.float().clamp_min(0))
