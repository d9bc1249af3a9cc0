"""LLVM 19: the ctypes binding, the crash-isolated compiler worker, the pass table, the toolchain.

Most users need :class:`~optgym.llvm.session.CompilerSession` (modules in a worker process) and
:mod:`optgym.llvm.passes` (the actions); :mod:`optgym.llvm.core` holds raw LLVM pointers and is
meant to run inside the worker.
"""
