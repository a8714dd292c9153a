"""Fixtures for the audio-room tests: one PulseAudio room per test session, the person's voice,
and the measured reaction times (printed at the end, and written as JSON when
STRETCH_E2E_REPORT=path is set).

Knobs (environment):
  STRETCH_E2E_RUN_ARGS   extra arguments for every `stretch-coach run` (diagnosis, e.g.
                         "--ps-option bestpath=no"); the tests run the product defaults otherwise.
  STRETCH_E2E_SAMPLE     write the recorded room sample here (docs/room-sample.wav).
  STRETCH_E2E_MARGIN     seconds added to the functional 1 s bounds on a loaded machine
                         (default 0.25: paplay's drain and the 20 ms status poll).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.coach import CoachProcess
from tests.e2e.room import Room, RoomUnavailable, missing_requirements

MEASURED: dict[str, Any] = {}


def margin() -> float:
    return float(os.environ.get("STRETCH_E2E_MARGIN", "0.25"))


def extra_run_args() -> list[str]:
    return shlex.split(os.environ.get("STRETCH_E2E_RUN_ARGS", ""))


@pytest.fixture(scope="session")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Room]:
    missing = missing_requirements()
    if missing:
        pytest.skip("audio room needs: " + ", ".join(missing))
    base = tmp_path_factory.mktemp("room")
    r = Room(base)
    try:
        r.start()
    except RoomUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield r
    finally:
        r.close()


class Person:
    """The person in the room: says things by playing synthesized speech into the air."""

    def __init__(self, room: Room, directory: Path) -> None:
        self.room = room
        self.directory = directory
        self._cache: dict[str, Path] = {}

    def wav(self, text: str) -> Path:
        if text not in self._cache:
            name = "".join(c if c.isalnum() else "_" for c in text)[:40] + ".wav"
            self._cache[text] = self.room.say_to_file(text, self.directory / name)
        return self._cache[text]

    def say(self, text: str) -> float:
        """Speak into the room; returns the monotonic time the speech ended."""
        return self.room.play(self.wav(text))


@pytest.fixture(scope="session")
def person(room: Room, tmp_path_factory: pytest.TempPathFactory) -> Person:
    return Person(room, tmp_path_factory.mktemp("voice"))


@pytest.fixture
def start_coach(room: Room, tmp_path: Path) -> Iterator[Any]:
    """start_coach(*args) -> a CoachProcess listening in the room; closed after the test."""
    started: list[CoachProcess] = []

    def start(*args: str, workdir: Path | None = None) -> CoachProcess:
        coach = CoachProcess(room, workdir or tmp_path, [*args, *extra_run_args()])
        started.append(coach)
        return coach.start()

    yield start
    for coach in started:
        coach.close()


def open_coach(room: Room, workdir: Path, args: Sequence[str]) -> CoachProcess:
    return CoachProcess(room, workdir, [*args, *extra_run_args()]).start()


def record(name: str, value: Any) -> None:
    """Keep a measured figure for the end-of-run summary."""
    MEASURED[name] = round(value, 3) if isinstance(value, float) else value


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not MEASURED:
        return
    terminalreporter.write_sep("-", "audio room: measured")
    for key, value in MEASURED.items():
        terminalreporter.write_line(f"{key}: {value}")
    out = os.environ.get("STRETCH_E2E_REPORT")
    if out:
        Path(out).write_text(json.dumps(MEASURED, indent=1) + "\n")
