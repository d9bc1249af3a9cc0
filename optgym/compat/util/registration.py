"""``compiler_gym.util.registration``: the environment ids :func:`optgym.compat.make` knows."""

from optgym.compat.ids import COMPILER_GYM_ENVS, COMPILERGYM_IDS

__all__ = ["COMPILERGYM_IDS", "COMPILER_GYM_ENVS"]
