"""LLVM pass-ordering environments (`optgym/llvm-*`)."""

from optgym.envs.llvm.env import BenchmarkLike, LlvmEnv
from optgym.envs.llvm.state import CompilerEnvState, ValidationResult

__all__ = ["BenchmarkLike", "CompilerEnvState", "LlvmEnv", "ValidationResult"]
