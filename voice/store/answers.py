"""Store facts as fields for spoken lines: "how many times this week", "my streak", "when
did I last stretch", and the kind nudge when someone is behind the seed's 3-4 a week.

Only reads the store; the wording lives in the responses table. SUGGESTED_RESPONSES holds
lines these fields fit, for content/en/responses.yaml (tests render every key with them).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from voice.coach.lines import Line
from voice.store import days as d
from voice.store.history import HistoryStore

SUGGESTED_RESPONSES: dict[str, tuple[str, ...]] = {
    "history_week": ("You have stretched {times} in the last seven days.",),
    "history_week_none": (
        "You have not stretched in the last seven days yet. Today is a good day to start.",
    ),
    "history_streak": ("You have stretched {days_in_a_row}. Keep it going.",),
    "history_streak_none": ("No streak right now. One session today starts a new one.",),
    "history_last": ("Your last session was {when}: the {routine}.",),
    "history_never": ("I have no sessions in your history yet.",),
    "history_behind": (
        "A gentle note: you have stretched {times} in the last seven days. Three or four "
        "times a week works best, and today counts.",
    ),
}


def times(n: int) -> str:
    """How a count of sessions is said: once, twice, 3 times."""
    return {0: "no times", 1: "once", 2: "twice"}.get(n, f"{n} times")


def days_ago(day: date, today: date) -> str:
    gap = (today - day).days
    if gap <= 0:
        return "earlier today"
    if gap == 1:
        return "yesterday"
    return f"{gap} days ago"


def week_count_fields(store: HistoryStore, today: date) -> dict[str, Any]:
    count = store.count_since(d.WEEK, today)
    return {"count": count, "times": times(count), "days": d.WEEK}


def streak_fields(store: HistoryStore, today: date) -> dict[str, Any]:
    n = store.streak_days(today)
    return {"days": n, "days_in_a_row": f"{n} day{'s' if n != 1 else ''} in a row"}


def last_session_fields(store: HistoryStore, today: date) -> dict[str, Any] | None:
    """The last session that counts (a start-then-stop is not 'the last time I stretched')."""
    last = store.last_session(counted_only=True)
    if last is None:
        return None
    day = date.fromisoformat(last["day"])
    return {
        "when": days_ago(day, today),
        "days_ago": max(0, (today - day).days),
        "routine": last["routine_name"] or last["routine"].replace("_", " "),
        "completed": last["completed"],
    }


def week_count_line(store: HistoryStore, today: date) -> Line:
    fields = week_count_fields(store, today)
    return Line("history_week" if fields["count"] else "history_week_none", fields, "info")


def streak_line(store: HistoryStore, today: date) -> Line:
    fields = streak_fields(store, today)
    return Line("history_streak" if fields["days"] else "history_streak_none", fields, "info")


def last_session_line(store: HistoryStore, today: date) -> Line:
    fields = last_session_fields(store, today)
    if fields is None:
        return Line("history_never", {}, "info")
    return Line("history_last", fields, "info")


def behind_nudge(store: HistoryStore, today: date) -> Line | None:
    """The line to say once at the start of a session when behind schedule, else None."""
    if not store.behind_schedule(today):
        return None
    return Line("history_behind", week_count_fields(store, today), "instruction")
