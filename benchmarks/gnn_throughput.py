"""GNN training throughput: graphs per second of the NVP training loop on real ProGraML graphs
of about 2,000 nodes, for the encoder optgym ships, a stock PyG ``RGCNConv`` model of the same
size, and the per-relation-weights layer the first models used, side by side in one run.

The graphs are the unoptimized csmith-v0 train programs whose graphs have 1,500-2,500 nodes
(the same features the NVP pool stores). Each variant runs the trainer's loop (PyG
``DataLoader`` batches, the NVP model's K logits, AdamW step) for a few rounds, the variants
taking turns round by round so that machine load falls on all alike; each variant's best round
counts. The stock model has the shipped one's embeddings, width, depth, relations (each flow,
both directions), pooling and head; only its layers are ``RGCNConv`` (mean aggregation, a
weight matrix per relation, a root weight) with a ReLU between them. The torch thread count is
the one optgym picks (:func:`optgym.cores.set_torch_threads`: the free cores), unless
``--threads`` says. Run:

    .venv/bin/python benchmarks/gnn_throughput.py [--graphs 16] [--batch-size 8] [--rounds 4]
        [--threads N] [--load N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import RGCNConv
from torch_geometric.utils import scatter

sys.path.insert(0, str(Path(__file__).parent))

from _load import add_load_argument, busy_processes, describe  # noqa: E402

from optgym.agents import encoders  # noqa: E402
from optgym.agents.nvp.data import to_data  # noqa: E402
from optgym.agents.nvp.model import NvpModel  # noqa: E402
from optgym.agents.nvp.pool import program_features  # noqa: E402
from optgym.datasets import get_benchmark, get_dataset  # noqa: E402
from optgym.llvm.session import CompilerSession  # noqa: E402
from optgym.programgraphs import default_vocabulary  # noqa: E402


class PerRelationLayer(nn.Module):
    """The reference: one weight matrix per relation (every node transformed R times), edge
    positions added, scatter-mean aggregation, an MLP update. Kept here only to measure
    against."""

    def __init__(self, dim: int, relations: int):
        super().__init__()
        self.relations = relations
        self.message = nn.Linear(dim, dim * relations, bias=False)
        self.position = nn.Embedding(encoders.POSITION_EMBEDDINGS, dim)
        self.update = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.norm = nn.LayerNorm(dim)

    def forward(self, h: torch.Tensor, edges: encoders.EdgeMean) -> torch.Tensor:
        n, d = h.shape
        src, rel = edges.src_slot // self.relations, edges.src_slot % self.relations
        dst, pos = edges.dst_slot // self.relations, edges.kind % encoders.POSITION_EMBEDDINGS
        msg = self.message(h).view(n, self.relations, d)[src, rel] + self.position(pos)
        agg = scatter(msg, dst, dim=0, dim_size=n, reduce="mean")
        return self.norm(h + self.update(torch.cat([h, agg], dim=1)))


class StockRgcnEncoder(nn.Module):
    """The comparison: the shipped encoder's embeddings, pooling and output size, with stock
    PyG ``RGCNConv`` layers (one weight matrix per relation) in place of optgym's layers."""

    def __init__(self, vocab_size: int, dim: int = 64, layers: int = 3):
        super().__init__()
        self.text = nn.Embedding(vocab_size, dim)
        self.node_type = nn.Embedding(encoders.N_NODE_TYPES, dim)
        self.relations = 2 * encoders.N_FLOWS
        self.convs = nn.ModuleList(RGCNConv(dim, dim, self.relations, aggr="mean")
                                   for _ in range(layers))
        self.out_dim = 2 * dim

    def encode(self, data: Any) -> torch.Tensor:
        h = (self.text(data.x.clamp(0, self.text.num_embeddings - 1))
             + self.node_type(data.node_type.clamp(0, encoders.N_NODE_TYPES - 1)))
        s, t = data.edge_index
        flow = data.edge_type.clamp(0, encoders.N_FLOWS - 1)
        edge_index = torch.stack([torch.cat([s, t]), torch.cat([t, s])])
        edge_type = torch.cat([flow, flow + encoders.N_FLOWS])
        for i, conv in enumerate(self.convs):
            h = conv(h, edge_index, edge_type)
            if i + 1 < len(self.convs):
                h = torch.relu(h)
        return torch.cat(encoders.graph_pool(h, data.batch, data.num_graphs), dim=1)


def graphs(n: int, low: int = 1500, high: int = 2500, scan: int = 400) -> list[dict[str, Any]]:
    """Features of the first ``n`` csmith-v0 train programs with ``low``-``high`` graph nodes."""
    out = []
    session = CompilerSession()
    try:
        for uri in get_dataset("csmith-v0").first_uris(scan, "train"):
            module = session.load(get_benchmark(uri).bitcode, name=uri)
            try:
                feats = program_features(module)
            finally:
                module.close()
            if low <= len(feats["nodes"]) <= high:
                out.append(feats)
            if len(out) >= n:
                break
    finally:
        session.close()
    return out


def throughput(model: nn.Module, data: list[Any], batch_size: int) -> float:
    """Graphs/s of one round of the training loop (forward, loss, backward, AdamW step)."""
    from torch_geometric.loader import DataLoader

    opt = model.__dict__.setdefault("_opt", torch.optim.AdamW(model.parameters(), lr=0.002))
    loader = DataLoader(data, batch_size=batch_size, shuffle=True)
    start, seen = time.perf_counter(), 0
    for batch in loader:
        target = torch.softmax(batch.rewards / 0.02, dim=1)
        loss = -(target * torch.log_softmax(model(batch), dim=1)).sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += batch.num_graphs
    return seen / (time.perf_counter() - start)


def models(vocab: int) -> dict[str, nn.Module]:
    """The variants, by the name the table prints, all NVP models of the shipped size."""
    torch.manual_seed(0)
    out = {}
    shipped = encoders.RelationalLayer
    encoders.RelationalLayer = PerRelationLayer
    try:
        out["per-relation weights (before)"] = NvpModel(50, "gnn", 64, 3, vocab, 0.1)
    finally:
        encoders.RelationalLayer = shipped
    stock = NvpModel(50, "gnn", 64, 3, vocab, 0.1)
    stock.encoder = StockRgcnEncoder(vocab, 64, 3)
    out["stock PyG RGCNConv"] = stock
    out["shipped encoder"] = NvpModel(50, "gnn", 64, 3, vocab, 0.1)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graphs", type=int, default=16, help="graphs per round (default 16)")
    ap.add_argument("--batch-size", type=int, default=8, help="graphs per batch (default 8)")
    ap.add_argument("--rounds", type=int, default=4, help="timed rounds per variant (default 4)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: the free cores, as training picks them)")
    add_load_argument(ap)
    args = ap.parse_args(argv)
    feats = graphs(args.graphs)
    if not feats:
        raise SystemExit("no csmith-v0 train program has a graph of 1,500-2,500 nodes")
    rng = np.random.default_rng(0)
    data = [to_data(f, rng.normal(size=50).astype(np.float32) * 0.05) for f in feats]
    nodes = [len(f["nodes"]) for f in feats]
    variants = models(len(default_vocabulary()))
    with busy_processes(args.load):
        from optgym.cores import set_torch_threads

        threads = set_torch_threads(args.threads)
        print(f"{describe(args.load)}; {threads} torch threads")
        print(f"{len(feats)} graphs, {statistics.mean(nodes):.0f} nodes and "
              f"{statistics.mean(len(f['links']) for f in feats):.0f} edges on average; "
              f"batch {args.batch_size}")
        best = dict.fromkeys(variants, 0.0)
        for round_ in range(args.rounds + 1):  # round 0 warms up allocators and threads
            for name, model in variants.items():
                rate = throughput(model, data, args.batch_size)
                if round_:
                    best[name] = max(best[name], rate)
    for name, model in variants.items():
        params = sum(p.numel() for p in model.parameters())
        print(f"{name:32s} {best[name]:7.1f} graphs/s   ({params:,} parameters)")
    shipped, stock = best["shipped encoder"], best["stock PyG RGCNConv"]
    print(f"shipped / stock RGCNConv: {shipped / stock:.2f}x; "
          f"shipped / per-relation: {shipped / best['per-relation weights (before)']:.2f}x")


if __name__ == "__main__":
    main()
