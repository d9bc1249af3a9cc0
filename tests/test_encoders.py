"""The shared program encoders: the sparse message passing is the mean it claims to be."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optgym.agents import encoders
from optgym.agents.encoders import EdgeMean, ProgramlEncoder, graph_data
from optgym.programgraphs import to_graph_instance


@pytest.fixture(scope="module")
def graph(session, demo_ir: bytes):
    module = session.load(demo_ir, name="demo")
    try:
        g = to_graph_instance(module.observe("Programl")["Programl"])
    finally:
        module.close()
    return graph_data(g.nodes, g.edges, g.edge_links)


def test_edge_mean_equals_a_plain_scatter_mean_with_gradients(graph):
    relations = 2 * encoders.N_FLOWS
    s, t = graph.edge_index
    flow = graph.edge_type
    rel = torch.cat([flow, flow + encoders.N_FLOWS])
    src_slot = torch.cat([s, t]) * relations + rel
    dst_slot = torch.cat([t, s]) * relations + rel
    kind = rel * encoders.POSITION_EMBEDDINGS + torch.cat([graph.edge_position] * 2).clamp(
        0, encoders.POSITION_EMBEDDINGS - 1)
    slots, kinds = graph.num_nodes * relations, relations * encoders.POSITION_EMBEDDINGS
    mean = EdgeMean(src_slot, dst_slot, kind, slots, kinds, torch.float64)
    torch.manual_seed(0)
    messages = torch.randn(slots, 3, dtype=torch.float64, requires_grad=True)
    table = torch.randn(kinds, 3, dtype=torch.float64, requires_grad=True)
    got = mean(mean.nodes, messages) + mean(mean.kinds, table)

    # The reference: per edge, the source slot's message plus its kind's row; mean per slot.
    per_edge = messages[src_slot] + table[kind]
    total = torch.zeros(slots, 3, dtype=torch.float64).index_add(0, dst_slot, per_edge)
    count = torch.bincount(dst_slot, minlength=slots).clamp_min(1)[:, None]
    want = total / count
    assert torch.allclose(got, want)
    weights = torch.randn(slots, 3, dtype=torch.float64)
    g_got = torch.autograd.grad((got * weights).sum(), (messages, table))
    g_want = torch.autograd.grad((want * weights).sum(), (messages, table))
    for a, b in zip(g_got, g_want, strict=True):
        assert torch.allclose(a, b)
    assert len(graph.edge_type) > 0 and (count > 1).any()  # the check had something to average


def test_encoder_handles_a_graph_without_edges_and_a_batch():
    from torch_geometric.data import Batch

    lone = graph_data(np.array([[0, 3]]), np.zeros((0, 2)), np.zeros((0, 2)))
    pair = graph_data(np.array([[0, 1], [1, 2]]), np.array([[0, 0]]), np.array([[0, 1]]))
    enc = ProgramlEncoder(vocab_size=8, dim=16, layers=2)
    out = enc.encode(Batch.from_data_list([lone, pair]))
    assert out.shape == (2, 32) and torch.isfinite(out).all()
    assert torch.allclose(enc.encode(lone), out[:1], atol=1e-5)


def test_graph_pool_equals_pyg_scatter_with_gradients():
    from torch_geometric.utils import scatter

    torch.manual_seed(1)
    h = torch.randn(7, 4, dtype=torch.float64, requires_grad=True)
    batch = torch.tensor([0, 0, 2, 2, 2, 3, 3])  # graph 1 has no nodes
    mean, largest = encoders.graph_pool(h, batch, 4)
    assert torch.allclose(mean, scatter(h, batch, dim=0, dim_size=4, reduce="mean"))
    assert torch.allclose(largest, scatter(h, batch, dim=0, dim_size=4, reduce="max"))
    weights = torch.randn(4, 8, dtype=torch.float64)
    got = torch.autograd.grad((torch.cat([mean, largest], 1) * weights).sum(), h)[0]
    want = torch.autograd.grad((torch.cat([scatter(h, batch, dim=0, dim_size=4, reduce="mean"),
                                           scatter(h, batch, dim=0, dim_size=4, reduce="max")],
                                          1) * weights).sum(), h)[0]
    assert torch.allclose(got, want)


def test_single_graph_inference_equals_pyg_data_and_does_not_import_pyg(graph):
    import subprocess
    import sys

    enc = ProgramlEncoder(vocab_size=64, dim=16, layers=2).eval()
    light = graph_data(graph.x.new_tensor(np.stack([graph.node_type, graph.x], 1)),
                       np.stack([graph.edge_type, graph.edge_position], 1),
                       graph.edge_index.T, batchable=False)
    with torch.no_grad():
        assert torch.allclose(enc.encode(light), enc.encode(graph))
    # Ranking with the shipped model must not pay for importing torch_geometric.
    code = ("import sys\nfrom optgym.envs.llvm import LlvmEnv\nfrom optgym.agents.nvp.policy "
            "import NvpPolicy\nenv = LlvmEnv(benchmark='benchmark://builtin-v0/crc32', "
            "observation_space=None)\nenv.reset()\nNvpPolicy().rank(env)\nenv.close()\n"
            "assert 'torch_geometric' not in sys.modules, 'torch_geometric was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
