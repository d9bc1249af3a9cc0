"""Coreset + normalized value prediction (Liang et al., ICML 2023) for LLVM pass ordering.

A pool of good pass sequences is found by random search on training programs; a greedy
coreset of K of them covers the pool's programs best; a model (a GNN over the ProGraML graph,
or an MLP over Autophase features) learns which coreset sequences suit a program, and at
inference the top-ranked ones are tried within a compilation budget, falling back to -Oz.
Importing this package registers the ``nvp`` and ``nvp-autophase`` policies without
importing torch.
"""

from __future__ import annotations

from pathlib import Path

from optgym.agents.base import register_policy

#: The model shipped in package data (weights, coreset, metadata).
MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILES = ("model.pt", "coreset.json", "metadata.json")


def shipped_model_available() -> bool:
    """Whether the shipped model's files are present (checks files only; imports nothing)."""
    return all((MODEL_DIR / name).is_file() for name in MODEL_FILES)


register_policy("nvp", "optgym.agents.nvp.policy:nvp_policy")
register_policy("nvp-autophase", "optgym.agents.nvp.policy:nvp_autophase_policy")

__all__ = ["MODEL_DIR", "shipped_model_available"]
