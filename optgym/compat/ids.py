"""The environment ids CompilerGym registered for LLVM, and the spaces each one sets."""

from __future__ import annotations

#: CompilerGym's LLVM ids: (observation space, reward space). The codesize ids are those of
#: CompilerGym's earlier releases.
COMPILERGYM_IDS: dict[str, tuple[str | None, str | None]] = {
    "llvm-v0": (None, None),
    "llvm-ic-v0": (None, "IrInstructionCountOz"),
    "llvm-autophase-ic-v0": ("Autophase", "IrInstructionCountOz"),
    "llvm-ir-ic-v0": ("Ir", "IrInstructionCountOz"),
    "llvm-codesize-v0": (None, "ObjectTextSizeOz"),
    "llvm-autophase-codesize-v0": ("Autophase", "ObjectTextSizeOz"),
    "llvm-ir-codesize-v0": ("Ir", "ObjectTextSizeOz"),
}

#: CompilerGym's name for the list of ids.
COMPILER_GYM_ENVS: list[str] = list(COMPILERGYM_IDS)
