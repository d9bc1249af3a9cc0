"""The vocabulary of node texts: maps a node's text (opcode, ``var``, ``val``, type) to an index.

The vocabulary shipped with optgym (``vocab.json``) was built by
``python -m optgym.programgraphs.make_vocab`` from the built-in C programs and csmith programs,
each at -O0 and after a few optimization pipelines. Texts not in it map to :attr:`oov_index`,
the last index, so an embedding table needs ``len(vocabulary)`` rows.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from optgym.errors import OptgymError

VOCAB_PATH = Path(__file__).with_name("vocab.json")
OOV_TEXT = "[OOV]"


class Vocabulary:
    """An ordered list of node texts plus one out-of-vocabulary entry at the end."""

    def __init__(self, texts: Iterable[str]):
        self.texts: tuple[str, ...] = (*[t for t in texts if t != OOV_TEXT], OOV_TEXT)
        if len(set(self.texts)) != len(self.texts):
            raise OptgymError("vocabulary texts must be distinct")
        self.index = {t: i for i, t in enumerate(self.texts)}
        self.oov_index = len(self.texts) - 1

    def __len__(self) -> int:
        return len(self.texts)

    def __contains__(self, text: object) -> bool:
        return text in self.index and text != OOV_TEXT

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Indices (int64) of ``texts``, the OOV index for unknown ones."""
        get, oov = self.index.get, self.oov_index
        return np.fromiter((get(t, oov) for t in texts), dtype=np.int64)

    @classmethod
    def load(cls, path: Path | str) -> Vocabulary:
        """Read a vocabulary written by :meth:`save` (``{"texts": [...], ...}``)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            texts = data["texts"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OptgymError(f"{path}: not a program-graph vocabulary ({exc})") from exc
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise OptgymError(f"{path}: 'texts' must be a list of strings")
        return cls(texts)


@functools.cache
def default_vocabulary() -> Vocabulary:
    """The vocabulary shipped with optgym."""
    return Vocabulary.load(VOCAB_PATH)
