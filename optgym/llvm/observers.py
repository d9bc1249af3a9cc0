"""What the compiler worker can measure about a module, by CompilerGym's observation names.

Each observer maps a :class:`~optgym.llvm.core.Module` to a value that pickles cheaply (int,
str, bytes, numpy array, or a dict of arrays). The environments ask for observers by name; only
those asked for are computed, and all of them run inside the worker, next to the module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from optgym.errors import OptgymError
from optgym.llvm.core import Module

Observer = Callable[[Module], Any]

OBSERVERS: dict[str, Observer] = {
    "Ir": Module.ir,
    "Bitcode": Module.bitcode,
    "IrHash": Module.hash,
    "IrInstructionCount": Module.instruction_count,
    "Counts": Module.counts,
    "InstCount": Module.instcount,
    "Autophase": Module.autophase,
    "ObjectTextSizeBytes": Module.object_text_size,
    "ObjectSizeTextBytes": Module.object_size_text,
    "AlwaysInlineCalls": Module.always_inline_calls,
    "FunctionSizes": Module.function_sizes,
}

#: Observers implemented in other subpackages, imported on first use as "module:function".
#: The one name that points up the layers, on purpose: the worker must build a program graph
#: when an environment asks for ``Programl`` by name, while :mod:`optgym.programgraphs` (which
#: uses this package's Module) stays out of the worker until then; a registration call from
#: programgraphs would never run in a worker that has not imported it.
LAZY_OBSERVERS: dict[str, str] = {
    "Programl": "optgym.programgraphs.builder:build_arrays",
    "ProgramlFullText": "optgym.programgraphs.builder:build_arrays_full_text",
    # the inlining environment's (imported on first use so that other workers start as fast)
    "InlineCallSites": "optgym.llvm.inlining:call_sites_observation",
    "InlineMarkedBitcode": "optgym.llvm.inlining:marked_bitcode",
    "BitcodeWithoutDebugInfo": "optgym.llvm.inlining:bitcode_without_debug_info",
}


def observer(name: str) -> Observer:
    """Look up an observer by name, importing it on first use if it lives elsewhere."""
    fn = OBSERVERS.get(name)
    if fn is None and name in LAZY_OBSERVERS:
        module, attr = LAZY_OBSERVERS[name].split(":")
        fn = OBSERVERS[name] = getattr(importlib.import_module(module), attr)
    if fn is None:
        known = ", ".join(sorted([*OBSERVERS, *LAZY_OBSERVERS]))
        raise OptgymError(f"unknown observation {name!r}; the worker computes: {known}")
    return fn
