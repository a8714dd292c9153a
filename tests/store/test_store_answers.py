"""Spoken answers: every line key renders with the suggested wording and its fields."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from voice.coach.lines import Lines
from voice.store import answers as a
from voice.store.history import HistoryStore

TODAY = date(2024, 3, 10)
SUMMARY = {"routine": "daily_psoas", "completed": True, "held": {"kneeling_lunge:left": 30}}


def add(store: HistoryStore, days_back: int, name: str | None = None) -> None:
    at = datetime(2024, 3, 10, 8, 0, tzinfo=UTC) - timedelta(days=days_back)
    store.record_session(SUMMARY, at, at + timedelta(minutes=8), name)


def say(line: object) -> str:
    return Lines(a.SUGGESTED_RESPONSES).render(line)  # type: ignore[arg-type]


def test_answers_with_no_history(store: HistoryStore) -> None:
    assert say(a.week_count_line(store, TODAY)).startswith("You have not stretched")
    assert say(a.streak_line(store, TODAY)).startswith("No streak")
    assert say(a.last_session_line(store, TODAY)) == "I have no sessions in your history yet."
    assert a.behind_nudge(store, TODAY) is None  # a newcomer is not behind


def test_answers_with_history(store: HistoryStore) -> None:
    add(store, 30)
    add(store, 2)
    add(store, 1, "Daily psoas routine")
    assert a.week_count_fields(store, TODAY) == {"count": 2, "times": "twice", "days": 7}
    assert say(a.week_count_line(store, TODAY)) == (
        "You have stretched twice in the last seven days."
    )
    assert say(a.streak_line(store, TODAY)) == "You have stretched 2 days in a row. Keep it going."
    assert say(a.last_session_line(store, TODAY)) == (
        "Your last session was yesterday: the Daily psoas routine."
    )
    nudge = a.behind_nudge(store, TODAY)
    assert nudge is not None and "twice in the last seven days" in say(nudge)
    add(store, 0)
    assert a.behind_nudge(store, TODAY) is None


def test_phrases() -> None:
    assert [a.times(n) for n in (0, 1, 2, 5)] == ["no times", "once", "twice", "5 times"]
    assert a.days_ago(TODAY, TODAY) == "earlier today"
    assert a.days_ago(TODAY - timedelta(days=1), TODAY) == "yesterday"
    assert a.days_ago(TODAY - timedelta(days=4), TODAY) == "4 days ago"


def test_routine_id_is_spoken_when_the_name_is_unknown(store: HistoryStore) -> None:
    add(store, 3)
    fields = a.last_session_fields(store, TODAY)
    assert fields is not None
    assert (fields["routine"], fields["when"], fields["days_ago"]) == (
        "daily psoas", "3 days ago", 3,
    )  # fmt: skip
