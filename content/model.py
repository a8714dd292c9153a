"""Frozen, typed content objects. Built by content.loader; read by intents and the coach."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SIDES_BOTH = ("left", "right")


@dataclass(frozen=True)
class Stretch:
    id: str
    name: str
    aliases: tuple[str, ...]
    position: str
    steps: tuple[str, ...]
    hold_seconds: int
    sides: tuple[str, ...]  # ("left", "right") or () for a stretch done once
    side_lines: dict[str, str]
    benefits: str
    cautions: tuple[str, ...]

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class RoutineItem:
    stretch: str
    hold_seconds: int | None = None
    rest_seconds: int | None = None


@dataclass(frozen=True)
class Routine:
    id: str
    name: str
    aliases: tuple[str, ...]
    items: tuple[RoutineItem, ...]
    rest_seconds: int | None = None

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Timing:
    hold_seconds: int = 30
    rest_seconds: int = 15
    switch_seconds: int = 5
    step_pause_seconds: int = 3


@dataclass(frozen=True)
class FaqEntry:
    id: str
    topics: tuple[str, ...]
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Content:
    language: str
    directory: Path
    stretches: dict[str, Stretch]
    routines: dict[str, Routine]
    timing: Timing
    faq: dict[str, FaqEntry]
    responses: dict[str, tuple[str, ...]]
    sentence_files: tuple[Path, ...]
    test_files: tuple[Path, ...]

    def stretch(self, stretch_id: str) -> Stretch:
        return self.stretches[stretch_id]
