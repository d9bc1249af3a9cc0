"""Program graphs: every node and edge of small hand-written IR, real modules, the worker observer."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from conftest import compile_c

from optgym.errors import LlvmError, OptgymError
from optgym.llvm.core import Module
from optgym.programgraphs import (
    CALL,
    CONSTANT,
    CONTROL,
    DATA,
    INSTRUCTION,
    TYPE,
    TYPE_FLOW,
    VARIABLE,
    ProgramGraph,
    Vocabulary,
    build_arrays,
    default_vocabulary,
    programl_space,
)

PROGRAMS = Path(__file__).resolve().parents[1] / "optgym" / "datasets" / "builtin" / "programs"

# A loop with a phi, calls to a defined and a declared function, a global and a switch.
LOOP_IR = b"""
@g = global i32 7

declare i32 @ext(i32)

define i32 @sq(i32 %a) {
  %m = mul i32 %a, %a
  ret i32 %m
}

define i32 @f(i32 %n) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %next = add i32 %i, 1
  %v = call i32 @ext(i32 %next)
  %c = icmp slt i32 %next, %n
  br i1 %c, label %loop, label %exit
exit:
  %x = load i32, ptr @g
  %s = call i32 @sq(i32 %x)
  switch i32 %s, label %d [ i32 1, label %a
                            i32 2, label %d ]
a:
  ret i32 %x
d:
  ret i32 0
}
"""
SWITCH = "switch i32 %s, label %d [\n    i32 1, label %a\n    i32 2, label %d\n  ]"

# (type, text, function, block, full text): every node the graph must have, and no other.
LOOP_NODES = [
    (INSTRUCTION, "[external]", -1, -1, ""),
    (INSTRUCTION, "; undefined function", 0, -1, ""),
    (INSTRUCTION, "mul", 1, 0, "%m = mul i32 %a, %a"),
    (INSTRUCTION, "ret", 1, 0, "ret i32 %m"),
    (INSTRUCTION, "br", 2, 1, "br label %loop"),
    (INSTRUCTION, "phi", 2, 2, "%i = phi i32 [ 0, %entry ], [ %next, %loop ]"),
    (INSTRUCTION, "add", 2, 2, "%next = add i32 %i, 1"),
    (INSTRUCTION, "call", 2, 2, "%v = call i32 @ext(i32 %next)"),
    (INSTRUCTION, "icmp", 2, 2, "%c = icmp slt i32 %next, %n"),
    (INSTRUCTION, "br", 2, 2, "br i1 %c, label %loop, label %exit"),
    (INSTRUCTION, "load", 2, 3, "%x = load i32, ptr @g, align 4"),
    (INSTRUCTION, "call", 2, 3, "%s = call i32 @sq(i32 %x)"),
    (INSTRUCTION, "switch", 2, 3, SWITCH),
    (INSTRUCTION, "ret", 2, 4, "ret i32 %x"),
    (INSTRUCTION, "ret", 2, 5, "ret i32 0"),
    # one variable per used SSA value (%v is unused: no node), in the block that defines it
    (VARIABLE, "var", 1, 0, "i32 %a"),
    (VARIABLE, "var", 1, 0, "i32 %m"),
    (VARIABLE, "var", 2, 1, "i32 %n"),
    (VARIABLE, "var", 2, 2, "i32 %i"),
    (VARIABLE, "var", 2, 2, "i32 %next"),
    (VARIABLE, "var", 2, 2, "i1 %c"),
    (VARIABLE, "var", 2, 3, "i32 %x"),
    (VARIABLE, "var", 2, 3, "i32 %s"),
    (CONSTANT, "val", -1, -1, "i32 0"),
    (CONSTANT, "val", -1, -1, "i32 1"),
    (CONSTANT, "val", -1, -1, "i32 2"),
    (CONSTANT, "val", -1, -1, "@g = global i32 7"),
    (TYPE, "i32", -1, -1, "i32"),
    (TYPE, "i1", -1, -1, "i1"),
    (TYPE, "*", -1, -1, "ptr"),
]

# (source full text, target full text, flow, position); instructions named by their text.
LOOP_EDGES = [
    # control: within blocks (position 0), then terminator -> successor (successor index)
    ("%m = mul i32 %a, %a", "ret i32 %m", CONTROL, 0),
    ("br label %loop", "%i = phi i32 [ 0, %entry ], [ %next, %loop ]", CONTROL, 0),
    ("%i = phi i32 [ 0, %entry ], [ %next, %loop ]", "%next = add i32 %i, 1", CONTROL, 0),
    ("%next = add i32 %i, 1", "%v = call i32 @ext(i32 %next)", CONTROL, 0),
    ("%v = call i32 @ext(i32 %next)", "%c = icmp slt i32 %next, %n", CONTROL, 0),
    ("%c = icmp slt i32 %next, %n", "br i1 %c, label %loop, label %exit", CONTROL, 0),
    ("br i1 %c, label %loop, label %exit", "%i = phi i32 [ 0, %entry ], [ %next, %loop ]",
     CONTROL, 0),
    ("br i1 %c, label %loop, label %exit", "%x = load i32, ptr @g, align 4", CONTROL, 1),
    ("%x = load i32, ptr @g, align 4", "%s = call i32 @sq(i32 %x)", CONTROL, 0),
    ("%s = call i32 @sq(i32 %x)", SWITCH, CONTROL, 0),
    (SWITCH, "ret i32 0", CONTROL, 0),  # default
    (SWITCH, "ret i32 %x", CONTROL, 1),  # case 1
    (SWITCH, "ret i32 0", CONTROL, 2),  # case 2, same block as the default
    # data: producer -> variable (0), variable/constant -> user (operand index)
    ("i32 %a", "%m = mul i32 %a, %a", DATA, 0),
    ("i32 %a", "%m = mul i32 %a, %a", DATA, 1),
    ("%m = mul i32 %a, %a", "i32 %m", DATA, 0),
    ("i32 %m", "ret i32 %m", DATA, 0),
    ("i32 0", "%i = phi i32 [ 0, %entry ], [ %next, %loop ]", DATA, 0),
    ("i32 %next", "%i = phi i32 [ 0, %entry ], [ %next, %loop ]", DATA, 1),
    ("%i = phi i32 [ 0, %entry ], [ %next, %loop ]", "i32 %i", DATA, 0),
    ("i32 %i", "%next = add i32 %i, 1", DATA, 0),
    ("i32 1", "%next = add i32 %i, 1", DATA, 1),
    ("%next = add i32 %i, 1", "i32 %next", DATA, 0),
    ("i32 %next", "%v = call i32 @ext(i32 %next)", DATA, 0),
    ("i32 %next", "%c = icmp slt i32 %next, %n", DATA, 0),
    ("i32 %n", "%c = icmp slt i32 %next, %n", DATA, 1),
    ("%c = icmp slt i32 %next, %n", "i1 %c", DATA, 0),
    ("i1 %c", "br i1 %c, label %loop, label %exit", DATA, 0),
    ("@g = global i32 7", "%x = load i32, ptr @g, align 4", DATA, 0),
    ("%x = load i32, ptr @g, align 4", "i32 %x", DATA, 0),
    ("i32 %x", "%s = call i32 @sq(i32 %x)", DATA, 0),
    ("%s = call i32 @sq(i32 %x)", "i32 %s", DATA, 0),
    ("i32 %s", SWITCH, DATA, 0),
    ("i32 1", SWITCH, DATA, 2),  # operands: condition, default label, value, label, ...
    ("i32 2", SWITCH, DATA, 4),
    ("i32 %x", "ret i32 %x", DATA, 0),
    ("i32 0", "ret i32 0", DATA, 0),
    # types
    *[("i32", v, TYPE_FLOW, 0) for v in (
        "i32 %a", "i32 %m", "i32 %n", "i32 %i", "i32 %next", "i32 %x", "i32 %s",
        "i32 0", "i32 1", "i32 2")],
    ("i1", "i1 %c", TYPE_FLOW, 0),
    ("ptr", "@g = global i32 7", TYPE_FLOW, 0),
    # calls: root <-> every function; call sites <-> callees (declarations are one node)
    ("root", "decl", CALL, 0),
    ("decl", "root", CALL, 0),
    ("root", "%m = mul i32 %a, %a", CALL, 0),
    ("ret i32 %m", "root", CALL, 0),
    ("root", "br label %loop", CALL, 0),
    ("ret i32 %x", "root", CALL, 0),
    ("ret i32 0", "root", CALL, 0),
    ("%v = call i32 @ext(i32 %next)", "decl", CALL, 0),
    ("decl", "%v = call i32 @ext(i32 %next)", CALL, 0),
    ("%s = call i32 @sq(i32 %x)", "%m = mul i32 %a, %a", CALL, 0),
    ("ret i32 %m", "%s = call i32 @sq(i32 %x)", CALL, 0),
]


def _describe(graph: ProgramGraph) -> list[str]:
    """A unique name per node: its full text, or root/decl for the two nodes without one."""
    texts = graph.node_texts
    names = []
    for text, full in zip(texts, graph.full_text, strict=True):
        names.append({"[external]": "root", "; undefined function": "decl"}.get(text, full))
    return names


def test_loop_phi_call_global_switch_every_node_and_edge():
    graph = build_arrays(Module.parse(LOOP_IR, "loop.ll"), full_text=True)
    nodes = list(zip(graph.node_type.tolist(), graph.node_texts, graph.node_function.tolist(),
                     graph.node_block.tolist(), graph.full_text, strict=True))
    assert Counter(nodes) == Counter(LOOP_NODES)
    # node order: root, instructions in module order, variables, constants, types
    assert nodes[:15] == LOOP_NODES[:15]
    assert graph.node_type.tolist() == sorted(graph.node_type.tolist())
    names = _describe(graph)
    assert len(set(names)) == len(names)
    edges = Counter(
        (names[s], names[t], f, p) for s, t, f, p in zip(
            graph.edge_source.tolist(), graph.edge_target.tolist(), graph.edge_flow.tolist(),
            graph.edge_position.tolist(), strict=True)
    )
    expected = Counter(LOOP_EDGES)
    assert edges - expected == Counter(), "edges that should not be there"
    assert expected - edges == Counter(), "edges that are missing"
    assert graph.function_names == ("ext", "sq", "f")
    assert graph.instruction_nodes().tolist() == list(range(2, 15))


def test_without_full_text_same_graph():
    module = Module.parse(LOOP_IR)
    full, lean = build_arrays(module, full_text=True), build_arrays(module)
    assert lean.full_text is None
    for name in ("node_type", "node_text_index", "node_function", "node_block",
                 "edge_source", "edge_target", "edge_flow", "edge_position"):
        np.testing.assert_array_equal(getattr(full, name), getattr(lean, name))
    assert full.texts == lean.texts


STRUCT_IR = b"""
%pair = type { i32, [4 x i8], i32 }
@p = global %pair zeroinitializer

declare void @use(ptr)

define internal void @cb(i32 %0) {
  ret void
}

define void @h(ptr %q, i32) {
  %x = load %pair, ptr @p
  call void @use(ptr @cb)
  %y = extractvalue %pair %x, 2
  unreachable
dead:
  ret void
}
"""


def test_types_address_taken_functions_unnamed_arguments_and_unreachable_blocks():
    graph = build_arrays(Module.parse(STRUCT_IR), full_text=True)
    names = _describe(graph)
    kinds = dict(zip(names, graph.node_type.tolist(), strict=True))
    edges = set(zip([names[s] for s in graph.edge_source], [names[t] for t in graph.edge_target],
                    graph.edge_flow.tolist(), graph.edge_position.tolist(), strict=True))
    # one node per LLVM type; the struct's members point at it by member index
    assert [graph.node_texts[i] for i in np.flatnonzero(graph.node_type == TYPE)].count("i32") == 1
    assert ("i32", "%pair", TYPE_FLOW, 0) in edges and ("i32", "%pair", TYPE_FLOW, 2) in edges
    assert ("[4 x i8]", "%pair", TYPE_FLOW, 1) in edges and ("i8", "[4 x i8]", TYPE_FLOW, 0) in edges
    assert graph.node_texts[names.index("%pair")] == "struct"
    assert graph.node_texts[names.index("[4 x i8]")] == "[]"
    # a function passed as an argument is a constant; as the callee it makes call edges only
    assert kinds["ptr @cb"] == CONSTANT
    assert ("ptr @cb", "call void @use(ptr @cb)", DATA, 0) in edges
    assert ("call void @use(ptr @cb)", "decl", CALL, 0) in edges
    # the unnamed argument of @cb is unused (no node); @h's used argument is named
    assert "i32 %x" not in names and "%pair %x" in names
    # the block no one branches to still reaches the root through its exit
    assert ("ret void", "root", CALL, 0) in edges and ("unreachable", "root", CALL, 0) in edges
    assert nx.is_weakly_connected(graph.to_networkx())


def test_empty_module_is_the_root_alone():
    graph = build_arrays(Module.parse(b"; nothing\n"))
    assert graph.num_nodes == 1 and graph.num_edges == 0
    assert graph.node_texts == ["[external]"] and graph.function_names == ()
    assert graph.to_pyg().num_nodes == 1


def test_closed_module_is_a_typed_error():
    module = Module.parse(LOOP_IR)
    module.close()
    with pytest.raises(LlvmError, match="closed"):
        build_arrays(module)


def _check_real(graph: ProgramGraph, module: Module) -> None:
    assert len(graph.instruction_nodes()) == module.instruction_count()
    assert nx.is_weakly_connected(graph.to_networkx())
    src_type = graph.node_type[graph.edge_source]
    dst_type = graph.node_type[graph.edge_target]
    for flow, sources, targets in (
        (CONTROL, {INSTRUCTION}, {INSTRUCTION}),
        (CALL, {INSTRUCTION}, {INSTRUCTION}),
        (DATA, {INSTRUCTION, VARIABLE, CONSTANT}, {INSTRUCTION, VARIABLE}),
        (TYPE_FLOW, {TYPE}, {VARIABLE, CONSTANT, TYPE}),
    ):
        mask = graph.edge_flow == flow
        assert set(src_type[mask].tolist()) <= sources
        assert set(dst_type[mask].tolist()) <= targets
    assert (graph.edge_position[graph.edge_flow == CALL] == 0).all()
    # data edges join an instruction and a value, never two values or two instructions
    data = graph.edge_flow == DATA
    assert ((src_type[data] == INSTRUCTION) != (dst_type[data] == INSTRUCTION)).all()
    # every variable has exactly one type; every instruction but the root has a function
    var = np.flatnonzero(graph.node_type == VARIABLE)
    typed = graph.edge_target[graph.edge_flow == TYPE_FLOW]
    assert (np.bincount(typed, minlength=graph.num_nodes)[var] == 1).all()
    assert (graph.node_function[1:][graph.node_type[1:] == INSTRUCTION] >= 0).all()


def test_csmith_modules_connected_and_counted(csmith_modules):
    for seed, bitcode in csmith_modules.items():
        module = Module.parse(bitcode, f"csmith{seed}")
        _check_real(build_arrays(module), module)
        module.run_passes("default<Oz>")
        _check_real(build_arrays(module), module)


def test_builtin_programs_connected_counted_and_in_vocabulary(tmp_path):
    sources = sorted(PROGRAMS.glob("*.c"))[:6]
    assert len(sources) == 6, f"the builtin programs ship as package data in {PROGRAMS}"
    vocab = default_vocabulary()
    for src in sources:
        module = Module.parse(compile_c(src, tmp_path / f"{src.stem}.bc"), src.stem)
        for pipeline in (None, "function(mem2reg)", "default<Oz>"):
            if pipeline:
                module.run_passes(pipeline)
            graph = build_arrays(module, full_text=pipeline == "default<Oz>")
            _check_real(graph, module)
            assert vocab.oov_index not in graph.text_ids(vocab), (src.stem, graph.texts)
            if graph.full_text is not None:
                lines = [ln.strip() for ln in module.ir().splitlines()]
                for i in graph.instruction_nodes()[:50]:
                    assert graph.full_text[i].split("\n")[0].strip() in lines


def test_observer_through_a_real_compiler_session(session, csmith_modules):
    bitcode = csmith_modules[3]
    handle = session.load(bitcode, name="csmith3")
    remote = handle.observe("Programl")["Programl"]
    local = build_arrays(Module.parse(bitcode))
    assert isinstance(remote, ProgramGraph)
    for name in ("node_type", "node_text_index", "node_function", "node_block",
                 "edge_source", "edge_target", "edge_flow", "edge_position"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name))
    assert remote.texts == local.texts and remote.function_names == local.function_names
    after = handle.run("default<Oz>", observe=("Programl", "IrInstructionCount")).observations
    assert len(after["Programl"].instruction_nodes()) == after["IrInstructionCount"]
    handle.close()


def test_vocabulary_oov_and_bad_files(tmp_path):
    vocab = Vocabulary(["add", "var"])
    assert len(vocab) == 3 and vocab.oov_index == 2
    assert vocab.encode(["var", "nonsense", "add"]).tolist() == [1, 2, 0]
    assert "add" in vocab and "[OOV]" not in vocab
    shipped = default_vocabulary()
    assert shipped.texts[-1] == "[OOV]"
    for text in ("[external]", "; undefined function", "var", "val", "*", "struct", "phi",
                 "switch", "i32", "double"):
        assert text in shipped
    bad = tmp_path / "vocab.json"
    bad.write_text('{"texts": [1, 2]}')
    with pytest.raises(OptgymError, match="list of strings"):
        Vocabulary.load(bad)
    bad.write_text("not json")
    with pytest.raises(OptgymError, match="not a program-graph vocabulary"):
        Vocabulary.load(bad)
    with pytest.raises(OptgymError, match="distinct"):
        Vocabulary(["a", "a"])


def test_pyg_view_batches_and_feeds_a_relational_gnn():
    import torch
    from torch_geometric.data import Batch
    from torch_geometric.nn import RGCNConv

    g1 = build_arrays(Module.parse(LOOP_IR))
    g2 = build_arrays(Module.parse(STRUCT_IR))
    d1, d2 = g1.to_pyg(), g2.to_pyg()
    assert d1.x.dtype == torch.long and d1.x.shape == (g1.num_nodes,)
    assert d1.edge_index.shape == (2, g1.num_edges)
    assert d1.edge_type.tolist() == g1.edge_flow.tolist()
    assert d1.edge_position.tolist() == g1.edge_position.tolist()
    assert d1.node_type.tolist() == g1.node_type.tolist()
    batch = Batch.from_data_list([d1, d2])
    assert batch.num_nodes == g1.num_nodes + g2.num_nodes
    assert batch.edge_index[:, g1.num_edges:].min() >= g1.num_nodes
    vocab = default_vocabulary()
    emb = torch.nn.Embedding(len(vocab), 8)
    conv = RGCNConv(8, 4, num_relations=4)
    out = conv(emb(batch.x), batch.edge_index, batch.edge_type)
    assert out.shape == (batch.num_nodes, 4)


def test_networkx_and_node_link_json():
    graph = build_arrays(Module.parse(LOOP_IR), full_text=True)
    g = graph.to_networkx()
    assert isinstance(g, nx.MultiDiGraph)
    assert g.number_of_nodes() == graph.num_nodes and g.number_of_edges() == graph.num_edges
    assert g.nodes[0] == {"type": 0, "text": "[external]", "function": -1, "block": -1,
                          "features": {"full_text": [""]}}
    assert [f["name"] for f in g.graph["function"]] == ["ext", "sq", "f"]
    # the switch has two control edges to one block: a multigraph keeps both
    switch = graph.node_texts.index("switch")
    assert sorted(d["position"] for _, _, d in g.out_edges(switch, data=True)
                  if d["flow"] == CONTROL) == [0, 1, 2]
    doc = json.loads(json.dumps(graph.to_json()))
    back = nx.node_link_graph(doc, edges="links")
    assert isinstance(back, nx.MultiDiGraph)
    assert dict(back.nodes(data=True)) == dict(g.nodes(data=True))
    assert sorted(back.edges(data=True), key=repr) == sorted(g.edges(data=True), key=repr)


def test_gymnasium_space_contains_the_observation_and_env_checker_accepts_it(demo_ir):
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env

    space = programl_space()
    graph = build_arrays(Module.parse(LOOP_IR))
    assert graph.to_graph_instance() in space
    assert space.sample() in space

    class TinyPassEnv(gym.Env):
        """Two actions (mem2reg, Oz) on the demo module, observing its program graph."""

        observation_space = space
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.module = Module.parse(demo_ir)
            return build_arrays(self.module).to_graph_instance(), {}

        def step(self, action):
            self.module.run_passes(("function(mem2reg)", "default<Oz>")[int(action)])
            obs = build_arrays(self.module).to_graph_instance()
            return obs, 0.0, False, False, {}

    check_env(TinyPassEnv(), skip_render_check=True)
