"""Folds of a labelled set, for adapting on some recordings and measuring on the others.

`K/N` is the K-th of N folds (0-based): every N-th recording of the sorted list, starting at
the K-th, so each fold spreads over the whole set as `eval --limit` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Fold:
    index: int
    count: int

    def take(self, items: Sequence[T]) -> list[T]:
        return [it for k, it in enumerate(items) if k % self.count == self.index]

    def leave(self, items: Sequence[T]) -> list[T]:
        return [it for k, it in enumerate(items) if k % self.count != self.index]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_fold(text: str) -> Fold:
    """'1/2' -> Fold(1, 2); a clear ValueError for anything else."""
    index, sep, count = text.partition("/")
    try:
        fold = Fold(int(index), int(count))
    except ValueError:
        fold = Fold(-1, 0)
    if not sep or fold.count < 2 or not 0 <= fold.index < fold.count:
        raise ValueError(f"a fold is K/N with 0 <= K < N and N >= 2, not {text!r}")
    return fold
