"""optgym: Gymnasium environments for compiler optimization (LLVM 19 pass ordering, memory mapping)."""

__version__ = "0.1.0"

#: The LLVM major version every result of this package is measured with.
LLVM_VERSION = "19"

from optgym.envs import register_envs as _register_envs  # noqa: E402

_register_envs()
