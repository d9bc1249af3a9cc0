"""Build ProGraML-style program graphs from in-memory LLVM modules, as compact numpy arrays.

The graph follows the schema of ProGraML (Cummins et al., ICML 2021; ``program_graph.proto``
and its LLVM graph builder):

* **Nodes** have a type: ``INSTRUCTION`` (0), ``VARIABLE`` (1), ``CONSTANT`` (2), ``TYPE`` (3).
  Their ``text`` is the opcode name for instructions (``add``, ``br``, ...), ``var`` for
  variables, ``val`` for constants, and for types ``*`` (pointer), ``struct``, ``[]``
  (array), ``vector`` or the type as LLVM prints it (``i32``, ``double``, a function
  signature). ``full_text`` is the printed value (``%3 = add nsw i32 %2, 1``, ``i32 %3``,
  ``i32 1``, ``ptr``) and is computed only when asked, since printing dominates the cost.
  Node 0 is the root, an instruction node with text ``[external]``. A declared (not defined)
  function is one instruction node with text ``; undefined function``.
* **Edges** have a flow: ``CONTROL`` (0), ``DATA`` (1), ``CALL`` (2), ``TYPE`` (3), and a
  position. Control edges join consecutive instructions of a block (position 0) and a
  terminator to the first instruction of each successor (position = successor index). Data
  edges run from a producing instruction to the variable it defines (position 0) and from a
  variable or constant to each instruction that uses it (position = operand index; basic
  block operands are skipped but keep their index, so a ``switch`` case value sits at 2, 4,
  ...). Phi operands are ordinary data operands, position = incoming index. Call edges (position
  0) run from a call site to the callee's entry instruction and from each of the callee's exit
  instructions (those ending a block with no successor) back to the call site; the root has
  call edges to every function's entry and from all its exits. Type edges run from a type node
  to each variable and constant of that type (position 0), and from a struct's member types
  to the struct (position = member index) and from an array's or vector's element type to it.
* **Functions and blocks**: ``function`` indexes :attr:`ProgramGraph.function_names` (every
  function of the module, declarations included, in module order); ``block`` numbers the
  basic blocks of the whole module in order. A variable takes the block of its defining
  instruction (arguments: the entry block).

Where we differ from ProGraML on purpose:

* **One variable node per SSA value**, not one per use. ProGraML creates a fresh variable node
  for every use of an instruction's result; we create one per value (on its first use, so an
  unused result still has none, as in ProGraML) with an edge to every user. Message passing
  then sees all uses of a value meet at one node, and graphs are smaller.
* **One node per LLVM type**, struct members included. ProGraML makes new nodes for struct
  members every time, which grows exponentially with nesting; LLVM uniques types, so one node
  per type is both faithful and bounded. Pointers are opaque in LLVM 19, so a ``*`` node has
  no element-type edge.
* **Address-taken functions** (a function used as an operand other than a call's callee,
  e.g. passed to ``qsort``) become constant nodes (full text ``ptr @name``); ProGraML drops
  them, losing the fact that the function escapes.
* **Unreachable blocks** get their control edges and exits too; ProGraML walks only blocks
  reachable from the entry, leaving unreachable code disconnected.
* **invoke and callbr** get call edges like ``call``; ProGraML handles only ``call``.
* Nodes with no function or block (the root, constants, types, declarations' block) carry
  ``-1`` rather than protobuf's default 0, so they cannot be mistaken for function or block 0.
* Node order: root, instructions (and declarations) in module order, then variables,
  constants, types. Instruction node ``1 + k`` is thus the k-th instruction of the module when
  it has no declarations before it.

The work happens in C (``optgym/llvm/native/graph.c``) in one call; Python only copies arrays.
"""

from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optgym.errors import LlvmError
from optgym.llvm import native

if TYPE_CHECKING:
    from optgym.llvm.core import Module
    from optgym.programgraphs.vocab import Vocabulary

NODE_TYPES = ("instruction", "variable", "constant", "type")
FLOWS = ("control", "data", "call", "type")
INSTRUCTION, VARIABLE, CONSTANT, TYPE = range(4)
CONTROL, DATA, CALL, TYPE_FLOW = range(4)
ROOT_TEXT = "[external]"
DECLARATION_TEXT = "; undefined function"

_i8p = ctypes.POINTER(ctypes.c_int8)
_i32p = ctypes.POINTER(ctypes.c_int32)
_i64p = ctypes.POINTER(ctypes.c_int64)


class _OgGraph(ctypes.Structure):
    _fields_ = [
        ("num_nodes", ctypes.c_int64),
        ("num_edges", ctypes.c_int64),
        ("num_texts", ctypes.c_int64),
        ("num_functions", ctypes.c_int64),
        ("node_type", _i8p),
        ("node_text", _i32p),
        ("node_function", _i32p),
        ("node_block", _i32p),
        ("edge_source", _i32p),
        ("edge_target", _i32p),
        ("edge_position", _i32p),
        ("edge_flow", _i8p),
        ("texts", ctypes.c_void_p),
        ("texts_len", ctypes.c_int64),
        ("function_names", ctypes.c_void_p),
        ("function_names_len", ctypes.c_int64),
        ("full_start", _i64p),
        ("full_text", ctypes.c_void_p),
    ]


@functools.cache
def _lib() -> ctypes.CDLL:
    lib = native.load()
    lib.optgym_graph_build.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.optgym_graph_build.restype = ctypes.POINTER(_OgGraph)
    lib.optgym_graph_free.argtypes = [ctypes.POINTER(_OgGraph)]
    lib.optgym_graph_free.restype = None
    return lib


def _copy(ptr: Any, n: int, dtype: type) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=dtype)
    return np.ctypeslib.as_array(ptr, shape=(n,)).astype(dtype, copy=True)


def _split(ptr: int | None, length: int) -> tuple[str, ...]:
    if not length:
        return ()
    raw = ctypes.string_at(ptr, length)
    return tuple(raw[:-1].decode("utf-8", "replace").split("\0"))


@dataclass(eq=False)
class ProgramGraph:
    """A program graph as flat arrays: one entry per node and per edge, no Python object each.

    Node ``i`` has type ``node_type[i]``, text ``texts[node_text_index[i]]``, function
    ``node_function[i]`` and block ``node_block[i]``; edge ``j`` runs from ``edge_source[j]``
    to ``edge_target[j]`` with flow ``edge_flow[j]`` and position ``edge_position[j]``.
    Views (PyG, networkx, JSON, Gymnasium) live in :mod:`optgym.programgraphs.views`.
    """

    node_type: np.ndarray  # int8
    node_text_index: np.ndarray  # int32, into ``texts``
    node_function: np.ndarray  # int32, -1 for none
    node_block: np.ndarray  # int32, -1 for none
    edge_source: np.ndarray  # int32
    edge_target: np.ndarray  # int32
    edge_flow: np.ndarray  # int8
    edge_position: np.ndarray  # int32
    texts: tuple[str, ...]  # the distinct node texts of this graph
    function_names: tuple[str, ...]
    full_text_data: bytes | None = None  # node i is data[offsets[i]:offsets[i+1]]
    full_text_offsets: np.ndarray | None = None

    @property
    def num_nodes(self) -> int:
        return len(self.node_type)

    @property
    def num_edges(self) -> int:
        return len(self.edge_source)

    @property
    def node_texts(self) -> list[str]:
        """Each node's text (opcode, ``var``, ``val``, type text, ...)."""
        texts = self.texts
        return [texts[i] for i in self.node_text_index.tolist()]

    @property
    def full_text(self) -> list[str] | None:
        """Each node's printed LLVM text, or None when the graph was built without it."""
        if self.full_text_data is None or self.full_text_offsets is None:
            return None
        data, off = self.full_text_data, self.full_text_offsets.tolist()
        return [data[off[i]:off[i + 1]].decode("utf-8", "replace") for i in range(len(off) - 1)]

    def text_ids(self, vocabulary: Vocabulary | None = None) -> np.ndarray:
        """Vocabulary index of every node's text (int64), out-of-vocabulary texts mapped to
        the vocabulary's OOV index. Defaults to the vocabulary shipped with optgym."""
        if vocabulary is None:
            from optgym.programgraphs.vocab import default_vocabulary

            vocabulary = default_vocabulary()
        table = vocabulary.encode(self.texts)
        return table[self.node_text_index] if len(table) else np.zeros(0, dtype=np.int64)

    def instruction_nodes(self) -> np.ndarray:
        """Indices of the nodes that are real instructions (not the root or declarations)."""
        mask = self.node_type == INSTRUCTION
        mask &= self.node_block >= 0
        return np.flatnonzero(mask)

    def nbytes(self) -> int:
        """Bytes of array data held (what dominates the pickled size)."""
        arrays = [getattr(self, f) for f in (
            "node_type", "node_text_index", "node_function", "node_block",
            "edge_source", "edge_target", "edge_flow", "edge_position",
        )]
        return sum(a.nbytes for a in arrays) + len(self.full_text_data or b"")

    # The views are defined in views.py; these forward so users need only the graph object.
    def to_pyg(self, vocabulary: Vocabulary | None = None) -> Any:
        from optgym.programgraphs.views import to_pyg

        return to_pyg(self, vocabulary)

    def to_networkx(self) -> Any:
        from optgym.programgraphs.views import to_networkx

        return to_networkx(self)

    def to_json(self) -> dict[str, Any]:
        from optgym.programgraphs.views import to_json

        return to_json(self)

    def to_graph_instance(self, vocabulary: Vocabulary | None = None) -> Any:
        from optgym.programgraphs.views import to_graph_instance

        return to_graph_instance(self, vocabulary)


def build_arrays(module: Module, full_text: bool = False) -> ProgramGraph:
    """The program graph of an in-memory module (the worker's ``Programl`` observation).

    With ``full_text=True`` every node's printed LLVM text is included too; that costs about as
    much again as printing the module.
    """
    lib = _lib()
    ptr = lib.optgym_graph_build(module.ref, int(bool(full_text)))
    if not ptr:
        raise LlvmError("building the program graph ran out of memory")
    try:
        g = ptr.contents
        n, e = g.num_nodes, g.num_edges
        graph = ProgramGraph(
            node_type=_copy(g.node_type, n, np.int8),
            node_text_index=_copy(g.node_text, n, np.int32),
            node_function=_copy(g.node_function, n, np.int32),
            node_block=_copy(g.node_block, n, np.int32),
            edge_source=_copy(g.edge_source, e, np.int32),
            edge_target=_copy(g.edge_target, e, np.int32),
            edge_flow=_copy(g.edge_flow, e, np.int8),
            edge_position=_copy(g.edge_position, e, np.int32),
            texts=_split(g.texts, g.texts_len),
            function_names=_split(g.function_names, g.function_names_len)
            if g.num_functions else (),
        )
        if full_text:
            offsets = _copy(g.full_start, n + 1, np.int64)
            graph.full_text_offsets = offsets
            graph.full_text_data = ctypes.string_at(g.full_text, int(offsets[-1]))
    finally:
        lib.optgym_graph_free(ptr)
    return graph


def build_arrays_full_text(module: Module) -> ProgramGraph:
    """:func:`build_arrays` with every node's printed text (an observer-shaped entry point)."""
    return build_arrays(module, full_text=True)
