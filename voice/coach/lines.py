"""Renders the coach's lines from the responses table, rotating through variants."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

TEXT = "_text"  # a line whose text comes straight from content (a step, a position, an answer)


@dataclass(frozen=True)
class Line:
    key: str
    fields: Mapping[str, object] = field(default_factory=dict)
    kind: str = "instruction"

    @classmethod
    def text(cls, text: str, kind: str = "instruction") -> Line:
        return cls(TEXT, {"text": text}, kind)


class _Fields(dict[str, object]):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"placeholder {{{key}}} has no value")


class Lines:
    """Variants rotate per key in a fixed order, so a replayed session says the same words."""

    def __init__(self, responses: Mapping[str, tuple[str, ...]]) -> None:
        self.responses = responses
        self._used: defaultdict[str, int] = defaultdict(int)

    def render(self, line: Line) -> str:
        if line.key == TEXT:
            return str(line.fields["text"])
        variants = self.responses[line.key]
        text = variants[self._used[line.key] % len(variants)]
        self._used[line.key] += 1
        return text.format_map(_Fields(line.fields))

    def render_key(self, key: str, **fields: object) -> str:
        return self.render(Line(key, fields))
