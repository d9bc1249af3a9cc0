"""Program encoders shared by every learned agent: ProGraML graphs and Autophase vectors to a
fixed-size program embedding (torch).

:class:`ProgramlEncoder` is relation-typed message passing over the ``Programl`` observation:
every flow (control, data, call, type) in each direction is its own relation with its own
messages, each edge adds an embedding of its relation and position (operand or successor
index), nodes start from their text and node-type embeddings, and the program
embedding is the mean and the max of the final node states. The flow and node-type counts come from
:mod:`optgym.programgraphs`, the Autophase size from the environment's observation space.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

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


class _SparseMean(torch.autograd.Function):
    """``matrix @ dense`` for a fixed sparse CSR ``matrix`` whose transpose is given too, so
    the backward pass is one more sparse product instead of torch's generic (slow on CPU)
    sparse gradient."""

    @staticmethod
    def forward(ctx: Any, matrix: torch.Tensor, transposed: torch.Tensor,
                dense: torch.Tensor) -> torch.Tensor:
        ctx.transposed = transposed
        return matrix @ dense

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, None, torch.Tensor]:
        return None, None, ctx.transposed @ grad


class EdgeMean:
    """The graph of a batch as the sparse averaging operators every layer shares.

    Edges run between *slots* (node * relations + relation): an edge of relation r carries
    its source's slot-r message to its target's slot r, and each slot takes the mean of what
    arrives. ``nodes`` averages the sources' messages; ``kinds`` averages the (relation,
    position) embeddings of the same edges. Building them once per batch turns each layer's
    message passing into two sparse matrix products, with no per-edge tensor at all.
    """

    def __init__(self, src_slot: torch.Tensor, dst_slot: torch.Tensor, kind: torch.Tensor,
                 slots: int, kinds: int, dtype: torch.dtype = torch.float32):
        order = torch.argsort(dst_slot)
        src, dst, kind = src_slot[order], dst_slot[order], kind[order]
        #: The edges, sorted by target slot.
        self.src_slot, self.dst_slot, self.kind = src, dst, kind
        counts = torch.bincount(dst, minlength=slots)
        crow = torch.zeros(slots + 1, dtype=torch.long, device=dst.device)
        crow[1:] = torch.cumsum(counts, 0)
        weight = (1.0 / counts.clamp_min(1).to(dtype))[dst]
        self.nodes = self._pair(crow, src, weight, slots, slots)
        self.kinds = self._pair(crow, kind, weight, slots, kinds)

    @staticmethod
    def _pair(crow: torch.Tensor, col: torch.Tensor, weight: torch.Tensor, rows: int,
              cols: int) -> tuple[torch.Tensor, torch.Tensor]:
        import warnings

        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter("ignore")
            matrix = torch.sparse_csr_tensor(crow, col, weight, (rows, cols))
            return matrix, matrix.t().to_sparse_csr()

    def __call__(self, which: tuple[torch.Tensor, torch.Tensor], dense: torch.Tensor) -> torch.Tensor:
        return _SparseMean.apply(which[0], which[1], dense)


class RelationalLayer(nn.Module):
    """One round of message passing with relation-specific messages.

    Each node computes one small message per relation (``width`` numbers each, by default
    ``dim / relations``, all from one ``dim x relations*width`` product); an edge carries its
    source's message for the edge's relation plus an embedding of its (relation, position)
    pair; each node averages what arrives per relation and updates its state from those
    averages. Small messages, one weight product instead of one per relation, and sparse
    products instead of gathers and scatters make CPU training several times faster than
    per-relation weight matrices (``benchmarks/gnn_throughput.py``).
    """

    def __init__(self, dim: int, relations: int, width: int | None = None):
        super().__init__()
        # By default the per-relation averages together are as wide as the node state.
        width = width or max(1, dim // relations)
        self.relations, self.width = relations, width
        self.message = nn.Linear(dim, relations * width, bias=False)
        self.position = nn.Embedding(relations * POSITION_EMBEDDINGS, width)
        nn.init.zeros_(self.position.weight)
        self.update = nn.Linear(dim + relations * width, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, h: torch.Tensor, mean: EdgeMean) -> torch.Tensor:
        n = h.shape[0]
        m = self.message(h).view(n * self.relations, self.width)
        agg = mean(mean.nodes, m) + mean(mean.kinds, self.position.weight)
        return self.norm(h + torch.relu(self.update(torch.cat([h, agg.view(n, -1)], dim=1))))


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
        relations = 2 * N_FLOWS
        flow = edge_type.clamp(0, N_FLOWS - 1)
        rel = torch.cat([flow, flow + N_FLOWS])
        pos = edge_position.clamp(0, POSITION_EMBEDDINGS - 1)
        src_slot = torch.cat([s, t]) * relations + rel
        dst_slot = torch.cat([t, s]) * relations + rel
        kind = rel * POSITION_EMBEDDINGS + torch.cat([pos, pos])
        mean = EdgeMean(src_slot, dst_slot, kind, h.shape[0] * relations,
                        relations * POSITION_EMBEDDINGS, h.dtype)
        for layer in self.layers:
            h = layer(h, mean)
        return torch.cat(graph_pool(h, batch, num_graphs), dim=1)

    def encode(self, data: Any) -> torch.Tensor:
        """Encode a ``torch_geometric`` ``Data``/``Batch`` or a :class:`GraphTensors` with the
        fields :func:`graph_data` makes."""
        batch = getattr(data, "batch", None)
        if batch is None:
            batch = torch.zeros(data.x.shape[0], dtype=torch.long, device=data.x.device)
        num_graphs = int(getattr(data, "num_graphs", 1))
        return self(data.x, data.node_type, data.edge_index, data.edge_type, data.edge_position,
                    batch, num_graphs)


def graph_pool(h: torch.Tensor, batch: torch.Tensor,
               num_graphs: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-graph mean and max of node states ``h`` (N, D); ``batch`` (N,) is each node's graph.
    A graph without nodes pools to zeros."""
    index = batch[:, None].expand_as(h)
    total = h.new_zeros(num_graphs, h.shape[1]).scatter_add_(0, index, h)
    count = torch.bincount(batch, minlength=num_graphs).clamp_min(1).to(h.dtype)
    largest = h.new_zeros(num_graphs, h.shape[1]).scatter_reduce(0, index, h, reduce="amax",
                                                                 include_self=False)
    return total / count[:, None], largest


class GraphTensors:
    """One program graph as the tensors :meth:`ProgramlEncoder.encode` reads, for inference.

    Training batches graphs with ``torch_geometric``; a single graph does not need it, and not
    importing it (about 6 s, most of torch's compiler stack) is what keeps ``optgym-cc`` quick.
    Other attributes (``autophase``) may be set on it, as on a ``torch_geometric`` ``Data``.
    """

    def __init__(self, **tensors: Any):
        self.__dict__.update(tensors)


def graph_data(nodes: Any, edges: Any, links: Any, *, batchable: bool = True) -> Any:
    """The model input for one ``Programl`` observation's arrays: ``nodes`` ``[type, text]``,
    ``edges`` ``[flow, position]``, ``links`` ``[source, target]``. A ``torch_geometric``
    ``Data`` (which ``Batch`` can batch), or with ``batchable=False`` a :class:`GraphTensors`."""
    import numpy as np

    nodes = np.asarray(nodes, dtype=np.int64).reshape(-1, 2)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    links = np.asarray(links, dtype=np.int64).reshape(-1, 2)
    fields = {
        "x": torch.from_numpy(nodes[:, 1].copy()),
        "node_type": torch.from_numpy(nodes[:, 0].copy()),
        "edge_index": torch.from_numpy(links.T.copy()),
        "edge_type": torch.from_numpy(edges[:, 0].copy()),
        "edge_position": torch.from_numpy(edges[:, 1].copy()),
    }
    if not batchable:
        return GraphTensors(**fields)
    from torch_geometric.data import Data

    return Data(**fields, num_nodes=len(nodes))


def log_autophase(values: torch.Tensor) -> torch.Tensor:
    """Autophase counts on a log scale (``log1p``), the input every Autophase model takes."""
    return torch.log1p(values.float().clamp_min(0))
