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
elif "numpy" not in _sys.modules:
    # The drop-ins' only matrix products rank a few hundred numbers, and OpenBLAS's idle
    # threads spin for a while after each, holding a core their compiler workers need (on 2
    # cores a helper worker then slowed the search down instead of halving it). The workers
    # and build server they start inherit this; a user's own setting wins.
    _os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
