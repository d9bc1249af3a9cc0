"""Gymnasium environments: LLVM pass ordering (`optgym/llvm-*`) and memory mapping (`optgym/memory-*`).

Registration is by entry-point string, so importing this package stays cheap: the LLVM worker,
torch and OR-Tools load only when an environment is made.
"""

from __future__ import annotations

import gymnasium


def register_envs() -> None:
    """Register every optgym environment id with Gymnasium (safe to call more than once)."""
    registry = gymnasium.envs.registration.registry
    for env_id, entry_point, kwargs in _ENVS:
        if env_id not in registry:
            gymnasium.register(id=env_id, entry_point=entry_point, kwargs=kwargs)


_ENVS: list[tuple[str, str, dict]] = [
    ("optgym/memory-v0", "optgym.envs.memory:MemoryMappingEnv", {}),
    ("optgym/memory-packing-v0", "optgym.envs.memory:MemoryPackingEnv", {}),
]
