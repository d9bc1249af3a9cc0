"""``compiler_gym.envs``: the environment classes (optgym has one, LLVM's)."""

from optgym.compat import llvm
from optgym.compat.env import CompilerEnv, CompilerGymEnv, LlvmEnv

__all__ = ["CompilerEnv", "CompilerGymEnv", "LlvmEnv", "llvm"]
