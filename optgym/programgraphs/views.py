"""Views of a :class:`~optgym.programgraphs.builder.ProgramGraph`: PyG, networkx, JSON, Gymnasium.

PyG: one homogeneous :class:`torch_geometric.data.Data` rather than a ``HeteroData`` because
ProGraML's four node types share one text vocabulary and every ProGraML model (its GGNN, RGCN
variants) embeds all nodes with one table and tells flows apart by an edge type. ``Data`` keeps
that direct: ``x`` feeds an ``nn.Embedding``, ``edge_type`` feeds ``RGCNConv``/``FastRGCNConv``
or per-flow message functions, ``edge_position`` feeds positional edge embeddings, and
``Batch.from_data_list`` batches graphs with no extra metadata. The node type is kept as a
feature (``node_type``) rather than a partition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from optgym.errors import OptgymError
from optgym.programgraphs.builder import FLOWS, NODE_TYPES, ProgramGraph

if TYPE_CHECKING:
    import gymnasium
    import networkx

    from optgym.programgraphs.vocab import Vocabulary

#: Largest edge position the Gymnasium space admits (operand indices of huge switches fit).
MAX_POSITION = 2**31 - 1


def to_pyg(graph: ProgramGraph, vocabulary: Vocabulary | None = None) -> Any:
    """A ``torch_geometric.data.Data`` with ``x`` (vocabulary ids, long), ``node_type``,
    ``function``, ``block``, ``edge_index``, ``edge_type`` (the flow) and ``edge_position``."""
    import torch
    from torch_geometric.data import Data

    def long(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))

    edge_index = np.stack([graph.edge_source, graph.edge_target]).astype(np.int64)
    return Data(
        x=long(graph.text_ids(vocabulary)),
        node_type=long(graph.node_type),
        function=long(graph.node_function),
        block=long(graph.node_block),
        edge_index=torch.from_numpy(edge_index),
        edge_type=long(graph.edge_flow),
        edge_position=long(graph.edge_position),
        num_nodes=graph.num_nodes,
    )


def to_networkx(graph: ProgramGraph) -> networkx.MultiDiGraph:
    """A ``networkx.MultiDiGraph`` with ProGraML's attribute names: nodes ``type``, ``text``,
    ``function``, ``block`` (and ``features: {"full_text": [...]}`` when built with full text);
    edges ``flow`` and ``position``; the graph's ``function`` list of ``{"name": ...}``."""
    import networkx as nx

    g = nx.MultiDiGraph()
    g.graph["function"] = [{"name": name} for name in graph.function_names]
    g.graph["features"] = {}
    texts = graph.node_texts
    full = graph.full_text
    types = graph.node_type.tolist()
    fns = graph.node_function.tolist()
    blocks = graph.node_block.tolist()
    for i in range(graph.num_nodes):
        attrs: dict[str, Any] = {
            "type": types[i], "text": texts[i], "function": fns[i], "block": blocks[i]
        }
        if full is not None:
            attrs["features"] = {"full_text": [full[i]]}
        g.add_node(i, **attrs)
    g.add_edges_from(
        (s, t, {"flow": f, "position": p})
        for s, t, f, p in zip(
            graph.edge_source.tolist(), graph.edge_target.tolist(),
            graph.edge_flow.tolist(), graph.edge_position.tolist(), strict=True,
        )
    )
    return g


def to_json(graph: ProgramGraph) -> dict[str, Any]:
    """The graph in networkx's node-link format (``networkx.node_link_graph(d, edges="links")``
    reads it back), with the same attributes as :func:`to_networkx`; ``json.dumps``-ready."""
    texts = graph.node_texts
    full = graph.full_text
    nodes = []
    for i, (t, f, b) in enumerate(zip(
        graph.node_type.tolist(), graph.node_function.tolist(), graph.node_block.tolist(),
        strict=True,
    )):
        node: dict[str, Any] = {"id": i, "type": t, "text": texts[i], "function": f, "block": b}
        if full is not None:
            node["features"] = {"full_text": [full[i]]}
        nodes.append(node)
    keys: dict[tuple[int, int], int] = {}
    links = []
    for s, t, f, p in zip(
        graph.edge_source.tolist(), graph.edge_target.tolist(),
        graph.edge_flow.tolist(), graph.edge_position.tolist(), strict=True,
    ):
        key = keys[(s, t)] = keys.get((s, t), -1) + 1
        links.append({"source": s, "target": t, "key": key, "flow": f, "position": p})
    return {
        "directed": True,
        "multigraph": True,
        "graph": {"function": [{"name": n} for n in graph.function_names], "features": {}},
        "nodes": nodes,
        "links": links,
    }


def programl_space(vocabulary: Vocabulary | None = None) -> gymnasium.spaces.Graph:
    """The Gymnasium space of ``Programl`` observations.

    Node features are ``[node_type, text_id]``; edge features ``[flow, position]``; both int64.
    """
    from gymnasium.spaces import Box, Graph

    if vocabulary is None:
        from optgym.programgraphs.vocab import default_vocabulary

        vocabulary = default_vocabulary()
    nodes = Box(
        low=np.array([0, 0]), high=np.array([len(NODE_TYPES) - 1, len(vocabulary) - 1]),
        shape=(2,), dtype=np.int64,
    )
    edges = Box(
        low=np.array([0, 0]), high=np.array([len(FLOWS) - 1, MAX_POSITION]),
        shape=(2,), dtype=np.int64,
    )
    return Graph(node_space=nodes, edge_space=edges)


def to_graph_instance(
    graph: ProgramGraph, vocabulary: Vocabulary | None = None
) -> gymnasium.spaces.GraphInstance:
    """The graph as a value of :func:`programl_space` (same vocabulary)."""
    from gymnasium.spaces import GraphInstance

    nodes = np.stack([graph.node_type.astype(np.int64), graph.text_ids(vocabulary)], axis=1)
    edges = np.stack(
        [graph.edge_flow.astype(np.int64), graph.edge_position.astype(np.int64)], axis=1
    )
    links = np.stack([graph.edge_source, graph.edge_target], axis=1).astype(np.int64)
    return GraphInstance(nodes=nodes.reshape(-1, 2), edges=edges.reshape(-1, 2), edge_links=links)


def from_observation(obs: Any, vocabulary: Vocabulary | None = None) -> ProgramGraph:
    """The :class:`ProgramGraph` a ``Programl`` observation (a ``GraphInstance``) encodes, so
    that ``.to_pyg()`` and ``.to_networkx()`` work on what an environment returned.

    Node texts come back from ``vocabulary`` (the one the observation was encoded with; by
    default the shipped one), so texts the vocabulary lacks read ``[OOV]``. The observation
    does not carry functions and blocks: every node's ``function`` and ``block`` is -1.
    """
    if vocabulary is None:
        from optgym.programgraphs.vocab import default_vocabulary

        vocabulary = default_vocabulary()
    nodes = np.asarray(getattr(obs, "nodes", None))
    edges = np.asarray(getattr(obs, "edges", None))
    links = np.asarray(getattr(obs, "edge_links", None))
    if nodes.ndim != 2 or nodes.shape[1] != 2 or edges.ndim != 2 or edges.shape[1] != 2 \
            or links.shape != (len(edges), 2):
        raise OptgymError(
            "not a Programl observation: expected a GraphInstance with nodes (N, 2) "
            f"[type, text id], edges (E, 2) [flow, position] and edge_links (E, 2); got {obs!r}"
        )
    text_ids = nodes[:, 1].astype(np.int64)
    if len(text_ids) and (text_ids.min() < 0 or text_ids.max() >= len(vocabulary)):
        raise OptgymError(f"node text ids run outside the vocabulary of {len(vocabulary)} texts")
    if len(links) and (links.min() < 0 or links.max() >= len(nodes)):
        raise OptgymError(f"edge_links name nodes outside 0..{len(nodes) - 1}")
    unknown = np.full(len(nodes), -1, dtype=np.int32)
    return ProgramGraph(
        node_type=nodes[:, 0].astype(np.int8),
        node_text_index=text_ids.astype(np.int32),
        node_function=unknown,
        node_block=unknown.copy(),
        edge_source=links[:, 0].astype(np.int32),
        edge_target=links[:, 1].astype(np.int32),
        edge_flow=edges[:, 0].astype(np.int8),
        edge_position=edges[:, 1].astype(np.int32),
        texts=vocabulary.texts,
        function_names=(),
    )
