"""LLVM pass-ordering environments (`optgym/llvm-*`)."""

from optgym.envs.llvm.cache import Transition, TranspositionCache
from optgym.envs.llvm.env import LlvmEnv
from optgym.envs.llvm.state import CompilerEnvState, ValidationResult

__all__ = ["CompilerEnvState", "LlvmEnv", "Transition", "TranspositionCache", "ValidationResult"]
