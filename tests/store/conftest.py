"""Fixtures for the history store: a store in tmp_path on a fixed wall clock, in UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from voice.store.history import HistoryStore

NOON = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


class WallClock:
    """A settable wall clock, so no test depends on the real date."""

    def __init__(self, at: datetime = NOON) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@pytest.fixture
def store(db_path: Path, wall: WallClock) -> Iterator[HistoryStore]:
    with HistoryStore(db_path, tz=UTC, now=wall) as s:
        yield s
