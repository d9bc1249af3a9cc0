"""optgym: Gymnasium environments for compiler optimization (LLVM 19 pass ordering, memory mapping)."""

__version__ = "0.1.0"

#: The LLVM major version every result of this package is measured with.
LLVM_VERSION = "19"

import os as _os  # noqa: E402

# Compiler workers import this package too; they have no use for Gymnasium, whose import would
# add a fifth of a second to every worker start and restart.
if _os.environ.get("OPTGYM_WORKER") != "1":
    from optgym.envs import register_envs as _register_envs

    _register_envs()
