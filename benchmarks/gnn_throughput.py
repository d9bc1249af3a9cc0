"""GNN training throughput: graphs per second of the NVP training loop on real ProGraML graphs
of about 2,000 nodes, for the encoder optgym ships now and for the per-relation-weights
layer the first models used, side by side in one run.

The graphs are the unoptimized csmith-v0 train programs whose graphs have 1,500-2,500 nodes
(the same features the NVP pool stores). Each variant runs the trainer's loop (PyG
``DataLoader`` batches, the NVP model's K logits, AdamW step) for a few rounds; the best
round counts, since the machine is shared. Run:

    .venv/bin/python benchmarks/gnn_throughput.py [--graphs 16] [--batch-size 8] [--rounds 4]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.utils import scatter

from optgym.agents import encoders
from optgym.agents.nvp.data import to_data
from optgym.agents.nvp.model import NvpModel
from optgym.agents.nvp.pool import program_features
from optgym.datasets import get_benchmark, get_dataset
from optgym.llvm.session import CompilerSession
from optgym.programgraphs import default_vocabulary


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


def throughput(model: nn.Module, data: list[Any], batch_size: int, rounds: int) -> float:
    """Best-round graphs/s of the training loop (forward, loss, backward, AdamW step)."""
    from torch_geometric.loader import DataLoader

    torch.manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=0.002)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True)
    best = 0.0
    for _ in range(rounds + 1):  # the first round warms up allocators and threads
        start, seen = time.perf_counter(), 0
        for batch in loader:
            target = torch.softmax(batch.rewards / 0.02, dim=1)
            loss = -(target * torch.log_softmax(model(batch), dim=1)).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += batch.num_graphs
        best = max(best, seen / (time.perf_counter() - start))
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graphs", type=int, default=16, help="graphs per round (default 16)")
    ap.add_argument("--batch-size", type=int, default=8, help="graphs per batch (default 8)")
    ap.add_argument("--rounds", type=int, default=4, help="timed rounds per variant (default 4)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    feats = graphs(args.graphs)
    if not feats:
        raise SystemExit("no csmith-v0 train program has a graph of 1,500-2,500 nodes")
    rng = np.random.default_rng(0)
    data = [to_data(f, rng.normal(size=50).astype(np.float32) * 0.05) for f in feats]
    nodes = [len(f["nodes"]) for f in feats]
    print(f"{len(feats)} graphs, {statistics.mean(nodes):.0f} nodes and "
          f"{statistics.mean(len(f['links']) for f in feats):.0f} edges on average; "
          f"batch {args.batch_size}, {torch.get_num_threads()} torch threads")
    vocab = len(default_vocabulary())
    results = {}
    shipped = encoders.RelationalLayer
    for name, layer in (("per-relation weights (before)", PerRelationLayer),
                        ("shipped encoder", shipped)):
        encoders.RelationalLayer = layer
        try:
            model = NvpModel(50, "gnn", 64, 3, vocab, 0.1)
        finally:
            encoders.RelationalLayer = shipped
        params = sum(p.numel() for p in model.parameters())
        results[name] = throughput(model, data, args.batch_size, args.rounds)
        print(f"{name:32s} {results[name]:7.1f} graphs/s   ({params:,} parameters)")
    before, now = results.values()
    print(f"speed-up: {now / before:.2f}x")


if __name__ == "__main__":
    main()
