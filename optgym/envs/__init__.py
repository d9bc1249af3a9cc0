"""Gymnasium environments: LLVM pass ordering (`optgym/llvm-*`), inlining
(`optgym/llvm-inline-*`) and memory mapping (`optgym/memory-*`).

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
            # the pass-ordering environments; the inlining ones end when their call sites do
            llvm = env_id.startswith("optgym/llvm") and "inline" not in env_id
            gymnasium.register(
                id=env_id, entry_point=entry_point, kwargs=kwargs,
                max_episode_steps=LLVM_MAX_EPISODE_STEPS if llvm else None,
            )

#: Episodes are truncated after this many steps unless ``gymnasium.make(..., max_episode_steps=N)``.
LLVM_MAX_EPISODE_STEPS = 200

_ENVS: list[tuple[str, str, dict]] = [
    ("optgym/llvm-v0", "optgym.envs.llvm:LlvmEnv", {}),
    ("optgym/llvm-ic-v0", "optgym.envs.llvm:LlvmEnv",
     {"observation_space": "InstCount", "reward_space": "IrInstructionCountOz"}),
    ("optgym/llvm-autophase-ic-v0", "optgym.envs.llvm:LlvmEnv",
     {"observation_space": "Autophase", "reward_space": "IrInstructionCountOz"}),
    ("optgym/llvm-codesize-v0", "optgym.envs.llvm:LlvmEnv",
     {"observation_space": "Autophase", "reward_space": "ObjectTextSizeOz"}),
    ("optgym/llvm-pipelines-ic-v0", "optgym.envs.llvm:LlvmEnv",
     {"observation_space": "Autophase", "reward_space": "IrInstructionCountOz",
      "action_space": "flags-pipelines-v0"}),
    ("optgym/llvm-safe-ic-v0", "optgym.envs.llvm:LlvmEnv",
     {"observation_space": "Autophase", "reward_space": "IrInstructionCountOz",
      "action_space": "flags-safe-pipelines-v0"}),
    ("optgym/llvm-inline-v0", "optgym.envs.llvm.inline:InliningEnv", {}),
    ("optgym/llvm-inline-text-v0", "optgym.envs.llvm.inline:InliningEnv",
     {"reward_space": "ObjectTextSize"}),
    ("optgym/memory-v1", "optgym.memory:MemoryMappingEnv", {}),
    ("optgym/memory-packing-v0", "optgym.memory:MemoryPackingEnv", {}),
]
