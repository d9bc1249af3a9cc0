"""optgym: Gymnasium environments for compiler optimization (LLVM 19 pass ordering, memory mapping)."""

__version__ = "0.1.0"

#: The LLVM major version every result of this package is measured with.
LLVM_VERSION = "19"

import os as _os  # noqa: E402
import sys as _sys  # noqa: E402

# Compiler workers import this package too, and so do the drop-ins (optgym-opt, optgym-cc):
# none of them calls gymnasium.make, and Gymnasium's import (a fifth of a second, more on a
# busy machine) would delay every worker start and every compile step. The drop-ins import it
# later, when they make an environment, after starting their compiler worker.
if _os.environ.get("OPTGYM_WORKER") != "1" and _os.path.basename(
        (getattr(_sys, "argv", None) or [""])[0]) not in ("optgym-opt", "optgym-cc"):
    from optgym.envs import register_envs as _register_envs

    _register_envs()
