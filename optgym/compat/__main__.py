"""``python -m optgym.compat SCRIPT [ARGS]`` runs a CompilerGym script with ``import
compiler_gym`` and ``import gym`` answered by optgym.compat (``-m MODULE`` runs a module, such
as ``pytest``, the same way)."""

from __future__ import annotations

import runpy
import sys

from optgym.compat import aliases


def main() -> None:
    """Install the aliases, then run the script or module as ``__main__``."""
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        raise SystemExit(0 if args else 2)
    aliases.install(gym=True)
    if args[0] == "-m":
        if len(args) < 2:
            raise SystemExit("-m needs a module name")
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
