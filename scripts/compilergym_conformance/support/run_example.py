"""Run one of CompilerGym's example scripts on optgym.compat, with the cBench stand-in:
``python run_example.py examples/tabular_q.py --flags...``."""

import runpy
import sys

import conftest  # noqa: F401 - the aliases and the cBench stand-in

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
