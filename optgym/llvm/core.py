"""A small ctypes binding to the libLLVM-19 C API: parse, clone, run passes, verify, write, count.

This is the only module that holds raw LLVM pointers. It runs inside the compiler worker
(:mod:`optgym.llvm.worker`), never in the environment's own process, because LLVM aborts the
process on some inputs and passes. Users who want a module in their own process can still use
:class:`Module` directly, accepting that risk.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import platform
import struct
from ctypes import POINTER, byref, c_char_p, c_int, c_size_t, c_uint, c_void_p
from typing import TYPE_CHECKING

from optgym.errors import LlvmError, ParseError, PipelineError
from optgym.llvm import native, passes, toolchain

if TYPE_CHECKING:  # numpy is imported where it is used: a compiler worker that only counts
    # instructions (the drop-ins' searches) starts a tenth of a second sooner without it.
    import numpy as np

_ref = c_void_p  # every LLVM handle is an opaque pointer
_Stats = ctypes.c_int64 * 4


@functools.cache
def lib() -> ctypes.CDLL:
    """libLLVM-19 with the signatures this binding uses declared."""
    so = ctypes.CDLL(str(toolchain.libllvm_path()), mode=ctypes.RTLD_GLOBAL)
    sigs: dict[str, tuple[object, list[object]]] = {
        "LLVMContextCreate": (_ref, []),
        "LLVMContextDispose": (None, [_ref]),
        "LLVMCreateMemoryBufferWithMemoryRangeCopy": (_ref, [c_char_p, c_size_t, c_char_p]),
        "LLVMGetBufferStart": (c_void_p, [_ref]),
        "LLVMGetBufferSize": (c_size_t, [_ref]),
        "LLVMDisposeMemoryBuffer": (None, [_ref]),
        "LLVMParseIRInContext": (c_int, [_ref, _ref, POINTER(_ref), POINTER(c_void_p)]),
        "LLVMCloneModule": (_ref, [_ref]),
        "LLVMDisposeModule": (None, [_ref]),
        "LLVMDisposeMessage": (None, [c_void_p]),
        "LLVMVerifyModule": (c_int, [_ref, c_int, POINTER(c_void_p)]),
        "LLVMWriteBitcodeToMemoryBuffer": (_ref, [_ref]),
        "LLVMPrintModuleToString": (c_void_p, [_ref]),
        "LLVMGetTarget": (c_char_p, [_ref]),
        "LLVMCreatePassBuilderOptions": (_ref, []),
        "LLVMPassBuilderOptionsSetVerifyEach": (None, [_ref, c_int]),
        "LLVMDisposePassBuilderOptions": (None, [_ref]),
        "LLVMRunPasses": (_ref, [_ref, c_char_p, _ref, _ref]),
        "LLVMGetErrorMessage": (c_void_p, [_ref]),
        "LLVMDisposeErrorMessage": (None, [c_void_p]),
        "LLVMGetDefaultTargetTriple": (c_void_p, []),
        "LLVMGetTargetFromTriple": (c_int, [c_char_p, POINTER(_ref), POINTER(c_void_p)]),
        "LLVMCreateTargetMachine": (
            _ref, [_ref, c_char_p, c_char_p, c_char_p, c_int, c_int, c_int]
        ),
        "LLVMGetFirstFunction": (_ref, [_ref]),
        "LLVMGetNamedFunction": (_ref, [_ref, c_char_p]),
        "LLVMGetNextFunction": (_ref, [_ref]),
        "LLVMIsDeclaration": (c_int, [_ref]),
        "LLVMGetModuleContext": (_ref, [_ref]),
        "LLVMGetEnumAttributeKindForName": (ctypes.c_uint, [c_char_p, c_size_t]),
        "LLVMCreateEnumAttribute": (_ref, [_ref, ctypes.c_uint, ctypes.c_uint64]),
        "LLVMGetEnumAttributeAtIndex": (_ref, [_ref, ctypes.c_uint, ctypes.c_uint]),
        "LLVMAddAttributeAtIndex": (None, [_ref, ctypes.c_uint, _ref]),
        "LLVMRemoveEnumAttributeAtIndex": (None, [_ref, ctypes.c_uint, ctypes.c_uint]),
        "LLVMGetFirstGlobal": (_ref, [_ref]),
        "LLVMGetNextGlobal": (_ref, [_ref]),
        "LLVMGetLinkage": (c_int, [_ref]),
        "LLVMSetLinkage": (None, [_ref, c_int]),
        "LLVMSetVisibility": (None, [_ref, c_int]),
        "LLVMGetValueName2": (c_void_p, [_ref, POINTER(c_size_t)]),
        "LLVMStripModuleDebugInfo": (c_int, [_ref]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(so, name)
        fn.restype = restype
        fn.argtypes = argtypes
    arch = {"x86_64": "X86", "amd64": "X86", "aarch64": "AArch64", "arm64": "AArch64"}.get(
        platform.machine().lower(), "X86"
    )
    for part in ("TargetInfo", "Target", "TargetMC", "AsmPrinter"):
        getattr(so, f"LLVMInitialize{arch}{part}")()
    return so


def _take_message(ptr: int | None) -> str:
    """Copy an LLVM-owned C string into Python and free it."""
    if not ptr:
        return ""
    text = ctypes.string_at(ptr).decode("utf-8", "replace")
    lib().LLVMDisposeMessage(ptr)
    return text


def _buffer_bytes(buf: int) -> bytes:
    llvm = lib()
    data = ctypes.string_at(llvm.LLVMGetBufferStart(buf), llvm.LLVMGetBufferSize(buf))
    llvm.LLVMDisposeMemoryBuffer(buf)
    return data


@functools.cache
def _context() -> int:
    # One context per process: modules that are cloned from each other must share it.
    return lib().LLVMContextCreate()


@functools.cache
def _pass_options() -> int:
    options = lib().LLVMCreatePassBuilderOptions()
    lib().LLVMPassBuilderOptionsSetVerifyEach(options, 0)
    return options


@functools.cache
def _target_machine(triple: bytes) -> int:
    """A target machine like the one ``opt-19 --relocation-model=pic`` builds (see
    :data:`optgym.llvm.toolchain.OPT_TARGET_FLAGS`): the module's triple, generic CPU."""
    llvm = lib()
    if not triple:
        raw = llvm.LLVMGetDefaultTargetTriple()
        triple = ctypes.string_at(raw)
        llvm.LLVMDisposeMessage(raw)
    target, err = _ref(), c_void_p()
    if llvm.LLVMGetTargetFromTriple(triple, byref(target), byref(err)):
        raise LlvmError(f"no LLVM target for triple {triple.decode()}: {_take_message(err.value)}")
    # LLVMCodeGenLevelDefault=2, LLVMRelocPIC=2, LLVMCodeModelDefault=0
    return llvm.LLVMCreateTargetMachine(target, triple, b"", b"", 2, 2, 0)


#: Columns of :meth:`Module.call_site_table`'s function table (one row per function, module
#: order, declarations included), as the native helper fills them (``native/inline.c``).
INLINE_FUNCTION_COLUMNS: tuple[str, ...] = (
    "defined", "local", "instructions", "blocks", "uses", "call_uses", "cond_blocks",
    "calls_defined", "max_loop_depth", "top_loops", "noinline", "alwaysinline", "viable",
    "interposable", "scc", "level", "body_cost", "args", "varargs", "address_taken", "calls",
    "memory", "single_block",
)
#: Columns of its call-site table (one row per direct call to a defined function).
INLINE_SITE_COLUMNS: tuple[str, ...] = (
    "caller", "callee", "loop_depth", "args", "const_args", "alloca_args", "invoke", "noinline",
    "alwaysinline", "entry_block", "cond_block", "chain_start", "chain_len", "compatible",
    "position", "const_arg_uses", "cost",
)


class Module:
    """One LLVM module owned by this process; disposed when garbage-collected or closed.

    ``codegen`` holds the ``llc-19`` options its object file is generated with, beyond clang
    -Oz's (set by code-generation steps such as ``codegen<machine-outliner>``).
    """

    __slots__ = ("_ref", "_machine", "codegen", "_object", "__weakref__")

    def __init__(self, ref: int, codegen: tuple[str, ...] = ()):
        self._ref = ref
        self._machine: int | None = None  # the target machine for its triple, once looked up
        self.codegen = codegen
        self._object: tuple[bytes, bytes] | None = None  # (content key, object) of the last

    @classmethod
    def parse(cls, data: bytes, name: str = "module") -> Module:
        """Parse LLVM IR text or bitcode; raise :class:`ParseError` with LLVM's diagnostic."""
        if not data:
            raise ParseError(f"{name}: empty input is not an LLVM module")
        llvm = lib()
        # LLVM's text parser needs a NUL terminator; bitcode ignores trailing bytes after it.
        # The name as the OS gave it: a file name need not be UTF-8 (surrogate escapes are bytes).
        buf = llvm.LLVMCreateMemoryBufferWithMemoryRangeCopy(
            data, len(data), name.encode("utf-8", "surrogateescape"))
        mod, msg = _ref(), c_void_p()
        if llvm.LLVMParseIRInContext(_context(), buf, byref(mod), byref(msg)):
            raise ParseError(f"{name}: {_take_message(msg.value).strip() or 'invalid LLVM IR'}")
        return cls(mod.value)

    def clone(self) -> Module:
        """An independent deep copy of this module."""
        return Module(lib().LLVMCloneModule(self._ref), self.codegen)

    def _globals(self, first: str, following: str) -> list[tuple[int, str]]:
        """(handle, name) of every function or global variable, in module order."""
        llvm, out = lib(), []
        value = getattr(llvm, first)(self.ref)
        while value:
            n = c_size_t()
            name = ctypes.string_at(llvm.LLVMGetValueName2(value, byref(n)), n.value)
            out.append((value, name.decode("utf-8", "surrogateescape")))
            value = getattr(llvm, following)(value)
        return out

    def defined_functions(self) -> list[str]:
        """Names of the functions this module has bodies for, in module order."""
        llvm = lib()
        return [name for f, name in self._globals("LLVMGetFirstFunction", "LLVMGetNextFunction")
                if not llvm.LLVMIsDeclaration(f)]

    def extract_function(self, name: str) -> Module:
        """A new module with only function ``name``'s body: what ``llvm-extract-19 --func``
        makes. Every other function and global variable becomes an external declaration
        (hidden where it was internal), the function itself becomes external (hidden if it
        was internal, so it is not deleted as unused), and what it does not reference is
        dropped (``globaldce``, ``strip-dead-prototypes``). This module is left unchanged.
        """
        available_externally, external, internal, private, hidden = 1, 0, 8, 9, 1  # LLVM-C enums
        llvm = lib()
        copy = self.clone()
        functions = copy._globals("LLVMGetFirstFunction", "LLVMGetNextFunction")
        variables = copy._globals("LLVMGetFirstGlobal", "LLVMGetNextGlobal")
        target = next((f for f, n in functions if n == name and not llvm.LLVMIsDeclaration(f)), None)
        if target is None:
            copy.close()
            raise LlvmError(f"extract_function: the module defines no function named {name!r}")
        for value, _ in functions + variables:
            if llvm.LLVMIsDeclaration(value):
                continue
            local = llvm.LLVMGetLinkage(value) in (internal, private)
            if value == target and not local:
                continue
            # The target stays a definition (external, so global-dce keeps it); everything
            # else becomes available_externally, which elim-avail-extern turns into a declaration.
            llvm.LLVMSetLinkage(value, external if value == target else available_externally)
            if local:
                llvm.LLVMSetVisibility(value, hidden)
        copy.run_passes("elim-avail-extern,globaldce,strip-dead-prototypes")
        return copy

    def close(self) -> None:
        """Free the module now rather than at garbage collection."""
        if self._ref:
            lib().LLVMDisposeModule(self._ref)
            self._ref = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down ctypes
            pass

    @property
    def ref(self) -> int:
        """The raw ``LLVMModuleRef`` (for the native helper)."""
        if not self._ref:
            raise LlvmError("module is closed")
        return self._ref

    def run_passes(self, pipeline: str) -> bool:
        """Run a new-pass-manager pipeline such as ``"instcombine<no-verify-fixpoint>,dce"``;
        returns whether some pass reported a change (did not preserve all analyses).

        It is LLVM-C's ``LLVMRunPasses`` (the native helper's copy, which also tells the
        report): a pass that changed nothing says so, and every pass that changes the module
        must say it did, or LLVM's own analysis caching would go wrong. A pipeline of steps
        (:func:`optgym.llvm.passes.join_steps`) may hold per-function steps
        (``only<NAME>(...)``) and code-generation steps (``codegen<machine-outliner>``), which
        add their options to :attr:`codegen`.
        """
        if "only<" in pipeline:
            return self._run_with_per_function_steps(pipeline)
        if "codegen<" in pipeline:
            steps, options = passes.split_codegen(passes.split_steps(pipeline))
            changed = self.run_passes(passes.join_steps(steps)) if steps else False
            added = tuple(o for o in options if o not in self.codegen)
            self.codegen = (*self.codegen, *added)
            return changed or bool(added)
        helper = native.load()
        reported = c_int()
        err = helper.optgym_run_passes(self.ref, pipeline.encode(), self._tm(), 0,
                                       byref(reported))
        if err:
            text = ctypes.string_at(err).decode("utf-8", "replace")
            helper.optgym_free_message(err)
            raise PipelineError(f"pipeline {pipeline!r}: {text}")
        return bool(reported.value)

    def run_passes_llvm_c(self, pipeline: str) -> None:
        """Run a pipeline with LLVM-C's own ``LLVMRunPasses``, which :meth:`run_passes`
        copies (tests check that the two give the same module)."""
        llvm = lib()
        err = llvm.LLVMRunPasses(self.ref, pipeline.encode(), self._tm(), _pass_options())
        if err:
            msg = llvm.LLVMGetErrorMessage(err)
            text = ctypes.string_at(msg).decode("utf-8", "replace")
            llvm.LLVMDisposeErrorMessage(msg)
            raise PipelineError(f"pipeline {pipeline!r}: {text}")

    def _run_with_per_function_steps(self, pipeline: str) -> bool:
        """Run steps some of which are per-function (``only<NAME>(...)``), in order; whether
        some pass reported a change."""
        pending: list[str] = []
        changed = False
        for step in passes.split_steps(pipeline):
            only = passes.parse_only(step)
            if only is None:
                pending.append(step)
                continue
            if pending:
                changed |= self.run_passes(passes.join_steps(pending))
                pending = []
            changed |= self._run_on_function(*only)
        if pending:
            changed |= self.run_passes(passes.join_steps(pending))
        return changed

    def _run_on_function(self, name: str, steps: list[str]) -> bool:
        """Run function passes on one function: every other function gets ``optnone`` (which
        the pass manager skips) for the run, as ``opt-19 -passes=forceattrs
        -force-attribute=optnone -force-remove-attribute=NAME:optnone`` gives it."""
        llvm = lib()
        target = llvm.LLVMGetNamedFunction(self.ref, name.encode())
        if not target or llvm.LLVMIsDeclaration(target):
            raise LlvmError(f"per-function step: the module defines no function {name!r}")
        fn_index = 0xFFFFFFFF  # LLVMAttributeFunctionIndex
        optnone = llvm.LLVMGetEnumAttributeKindForName(b"optnone", 7)
        functions = []
        fn = llvm.LLVMGetFirstFunction(self.ref)
        while fn:
            if llvm.LLVMGetEnumAttributeAtIndex(fn, fn_index, optnone):
                raise LlvmError("per-function steps need a module without optnone functions "
                                "(their optnone could not be told from the one they add)")
            functions.append(fn)
            fn = llvm.LLVMGetNextFunction(fn)
        attribute = llvm.LLVMCreateEnumAttribute(llvm.LLVMGetModuleContext(self.ref), optnone, 0)
        for fn in functions:
            if fn != target:
                llvm.LLVMAddAttributeAtIndex(fn, fn_index, attribute)
        try:
            return self.run_passes(passes.join_steps(steps))
        finally:
            fn = llvm.LLVMGetFirstFunction(self.ref)  # passes may have added or removed some
            while fn:
                llvm.LLVMRemoveEnumAttributeAtIndex(fn, fn_index, optnone)
                fn = llvm.LLVMGetNextFunction(fn)

    def _tm(self) -> int:
        if self._machine is None:  # no pass changes a module's target triple
            self._machine = _target_machine(lib().LLVMGetTarget(self.ref) or b"")
        return self._machine

    def verify(self) -> str | None:
        """Return None when the module is valid, else the verifier's message."""
        msg = c_void_p()
        broken = lib().LLVMVerifyModule(self.ref, 2, byref(msg))  # LLVMReturnStatusAction
        text = _take_message(msg.value)
        return (text.strip() or "module is broken") if broken else None

    def bitcode(self) -> bytes:
        """The module as bitcode."""
        return _buffer_bytes(lib().LLVMWriteBitcodeToMemoryBuffer(self.ref))

    def ir(self) -> str:
        """The module as LLVM IR text."""
        return _take_message(lib().LLVMPrintModuleToString(self.ref))

    def hash(self) -> str:
        """A hex digest identifying the module's content (its bitcode and code-generation
        options)."""
        h = hashlib.blake2b(self.bitcode(), digest_size=16)
        for option in self.codegen:
            h.update(b"\0" + option.encode())
        return h.hexdigest()

    def counts(self) -> tuple[int, int, int]:
        """(instructions, basic blocks, defined functions)."""
        out = (ctypes.c_int64 * 3)()
        native.load().optgym_counts(self.ref, out)
        return out[0], out[1], out[2]

    def fingerprint(self) -> int:
        """A cheap structural fingerprint for telling whether a pass changed this module.

        Comparable only before and after a pass on this same in-memory module; see the native
        helper for what it covers (and the code-generation options). Use :meth:`hash` for a
        content hash.
        """
        fingerprint = native.load().optgym_fingerprint(self.ref)
        return fingerprint ^ (hash(self.codegen) & 0xFFFFFFFFFFFFFFFF) if self.codegen else fingerprint

    def step_stats(self) -> tuple[int, tuple[int, int, int]]:
        """:meth:`fingerprint` and :meth:`counts` from one walk of the module: what a step
        needs to tell whether a pass changed the module and how many instructions it left."""
        out = _Stats()
        native.load().optgym_step_stats(self.ref, out)
        fingerprint = out[0] ^ (hash(self.codegen) & 0xFFFFFFFFFFFFFFFF) if self.codegen \
            else out[0]
        return fingerprint, (out[1], out[2], out[3])

    def always_inline_calls(self) -> int:
        """Call sites clang's always-inliner would inline that are still calls (see the native
        helper): above clang -Oz's number, a result breaks the promise of ``always_inline``."""
        return native.load().optgym_always_inline_calls(self.ref)

    def function_sizes(self) -> dict[str, int]:
        """Instructions of each defined function, by name, in module order."""
        names = self.defined_functions()
        out = (ctypes.c_int64 * max(len(names), 1))()
        native.load().optgym_function_counts(self.ref, out, len(names))
        return {name: out[i] for i, name in enumerate(names)}

    def mark_call_sites(self) -> int:
        """Give every call a synthetic debug location whose line is its id + 1 (ids number the
        module's calls in order), so that a call site, and every copy inlining makes of it,
        keeps its name (see ``native/inline.c``); returns the number of calls. A module that
        already has debug information is refused (:class:`LlvmError`): its locations are the
        user's."""
        n = native.load().optgym_inline_mark(self.ref)
        if n < 0:
            raise LlvmError("the module carries debug information; call sites are named by "
                            "synthetic debug locations, which would overwrite it")
        return n

    def call_site_table(self) -> dict[str, object]:
        """The functions and direct calls to defined functions of the module, with their
        features (:data:`INLINE_FUNCTION_COLUMNS`, :data:`INLINE_SITE_COLUMNS`), each call's
        chain of call ids read from its location (innermost first: the call it was copied
        from, then the calls it was inlined through; -1 without a location), and the
        functions' names."""
        import numpy as np

        lib_ = native.load()
        counts = (ctypes.c_int64 * 3)()
        i64p = POINTER(ctypes.c_int64)
        lib_.optgym_inline_table(self.ref, None, 0, None, 0, None, 0, counts)
        nf, ns, nc = counts[0], counts[1], counts[2]
        funcs = np.zeros((nf, len(INLINE_FUNCTION_COLUMNS)), dtype=np.int64)
        sites = np.zeros((ns, len(INLINE_SITE_COLUMNS)), dtype=np.int64)
        chains = np.zeros(nc, dtype=np.int64)
        status = lib_.optgym_inline_table(
            self.ref, funcs.ctypes.data_as(i64p), funcs.size, sites.ctypes.data_as(i64p),
            sites.size, chains.ctypes.data_as(i64p), chains.size, counts)
        if status:
            raise LlvmError("call_site_table: out of memory")
        names = [name for _, name in self._globals("LLVMGetFirstFunction", "LLVMGetNextFunction")]
        return {"functions": funcs, "sites": sites, "chains": chains, "names": names}

    def call_functions(self) -> np.ndarray:
        """For each call id (the module's calls in order), the index of its function (in
        module order, declarations included)."""
        import numpy as np

        lib_ = native.load()
        n = lib_.optgym_inline_call_functions(self.ref, None, 0)
        out = np.zeros(n, dtype=np.int64)
        lib_.optgym_inline_call_functions(self.ref, out.ctypes.data_as(POINTER(ctypes.c_int64)), n)
        return out

    def strip_debug_info(self) -> None:
        """Remove all debug information (``opt-19 --strip-debug``)."""
        lib().LLVMStripModuleDebugInfo(self.ref)

    def instruction_count(self) -> int:
        """Number of instructions in all functions (CompilerGym's IrInstructionCount)."""
        return self.counts()[0]

    def instcount(self) -> np.ndarray:
        """CompilerGym's 70-dimensional InstCount feature vector."""
        import numpy as np

        out = np.zeros(70, dtype=np.int64)
        native.load().optgym_instcount(self.ref, out.ctypes.data_as(POINTER(ctypes.c_int64)))
        return out

    def autophase(self) -> np.ndarray:
        """CompilerGym's 56-dimensional Autophase feature vector."""
        import numpy as np

        out = np.zeros(56, dtype=np.int64)
        if native.load().optgym_autophase(self.ref, out.ctypes.data_as(POINTER(ctypes.c_int64))):
            raise LlvmError("autophase: out of memory")
        return out

    def object_file(self) -> bytes:
        """The object file clang -Oz's code generator makes of this module, IR as it is.

        Generated by ``llc-19`` (:func:`optgym.llvm.toolchain.object_file`) rather than
        in-process: LLVM-C's target machines lack some of llc's and clang's target options,
        which moves ``.text`` by a few bytes, and sizes must agree with ``clang-19 -Oz -c``.
        :attr:`codegen`'s options are added. The last object is kept until the module
        changes, so several measures of one state cost one code generation.
        """
        bitcode = self.bitcode()
        key = hashlib.blake2b(repr(self.codegen).encode() + bitcode, digest_size=16).digest()
        if self._object is None or self._object[0] != key:
            self._object = (key, toolchain.object_file(bitcode, what="module", error=LlvmError,
                                                        options=self.codegen))
        return self._object[1]

    def set_size_attributes(self) -> None:
        """Give every function definition what clang -Oz gives it: ``optsize`` and
        ``minsize``, no ``optnone``; and drop ``noinline`` when every definition has it (the
        mark clang -O0 leaves on all functions), so inlining decisions are -Oz's."""
        llvm = lib()
        kind = {name: llvm.LLVMGetEnumAttributeKindForName(name.encode(), len(name))
                for name in ("optsize", "minsize", "optnone", "noinline")}
        ctx = llvm.LLVMGetModuleContext(self.ref)
        fn_index = 0xFFFFFFFF  # LLVMAttributeFunctionIndex
        definitions = []
        fn = llvm.LLVMGetFirstFunction(self.ref)
        while fn:
            if not llvm.LLVMIsDeclaration(fn):
                definitions.append(fn)
            fn = llvm.LLVMGetNextFunction(fn)
        all_noinline = bool(definitions) and all(
            llvm.LLVMGetEnumAttributeAtIndex(f, fn_index, kind["noinline"]) for f in definitions)
        for f in definitions:
            llvm.LLVMRemoveEnumAttributeAtIndex(f, fn_index, kind["optnone"])
            if all_noinline:
                llvm.LLVMRemoveEnumAttributeAtIndex(f, fn_index, kind["noinline"])
            for name in ("optsize", "minsize"):
                llvm.LLVMAddAttributeAtIndex(f, fn_index, llvm.LLVMCreateEnumAttribute(ctx, kind[name], 0))

    def object_text_size(self) -> int:
        """Bytes of executable code (``.text*`` sections) in the module's object file."""
        return elf_text_size(self.object_file())

    def object_size_text(self) -> int:
        """The ``text`` column of ``size`` for the module's object file: code, read-only data
        and unwind tables (what a user of ``size`` sees)."""
        return elf_size_text(self.object_file())


def _elf_sections(obj: bytes) -> list[tuple[bytes, int, int, int]]:
    """(name, type, flags, size) of each section of an ELF64 little-endian object file."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2:
        raise LlvmError("object file is not ELF64")
    shoff = struct.unpack_from("<Q", obj, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", obj, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", obj, shoff + i * shentsize) for i in range(shnum)]
    strtab_off = headers[shstrndx][4]
    sections = []
    for name_off, kind, flags, _addr, _off, size in headers:
        end = obj.index(b"\0", strtab_off + name_off)
        sections.append((obj[strtab_off + name_off : end], kind, flags, size))
    return sections


def elf_text_size(obj: bytes) -> int:
    """Sum of the sizes of the ``.text*`` sections of an ELF64 little-endian object file."""
    return sum(size for name, _, _, size in _elf_sections(obj) if name.startswith(b".text"))


def elf_size_text(obj: bytes) -> int:
    """The ``text`` column of ``size`` (Berkeley format): every allocated, read-only section
    with contents (code, ``.rodata``, ``.eh_frame``)."""
    shf_write, shf_alloc, sht_nobits = 0x1, 0x2, 8
    return sum(size for _, kind, flags, size in _elf_sections(obj)
               if flags & shf_alloc and not flags & shf_write and kind != sht_nobits)


__all__ = ["Module", "elf_size_text", "elf_text_size", "lib", "c_uint"]
