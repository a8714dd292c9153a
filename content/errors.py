"""Content problems, each reported as `file: path.to.field: reason`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '<top>'}: {self.reason}"


class ContentError(Exception):
    """Raised with every problem found, so a broken set is reported whole, not one at a time."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
