"""ProGraML-style program graphs of LLVM modules: builder, vocabulary and views.

>>> from optgym.llvm.core import Module
>>> from optgym.programgraphs import build_arrays
>>> graph = build_arrays(Module.parse(open("prog.bc", "rb").read()))
>>> data = graph.to_pyg()            # torch_geometric.data.Data
>>> nxg = graph.to_networkx()        # networkx.MultiDiGraph with ProGraML's attribute names
>>> from_observation(obs).to_pyg()   # the same from an env's Programl observation
"""

from optgym.programgraphs.builder import (
    CALL,
    CONSTANT,
    CONTROL,
    DATA,
    FLOWS,
    INSTRUCTION,
    NODE_TYPES,
    TYPE,
    TYPE_FLOW,
    VARIABLE,
    ProgramGraph,
    build_arrays,
)
from optgym.programgraphs.views import (
    from_observation,
    programl_space,
    to_graph_instance,
    to_json,
    to_networkx,
    to_pyg,
)
from optgym.programgraphs.vocab import Vocabulary, default_vocabulary

__all__ = [
    "CALL", "CONSTANT", "CONTROL", "DATA", "FLOWS", "INSTRUCTION", "NODE_TYPES", "TYPE",
    "TYPE_FLOW", "VARIABLE", "ProgramGraph", "Vocabulary", "build_arrays", "default_vocabulary",
    "from_observation",
    "programl_space", "to_graph_instance", "to_json", "to_networkx", "to_pyg",
]
