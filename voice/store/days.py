"""Pure calendar arithmetic over the local days someone stretched. No I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo

WEEK = 7
TARGET_PER_WEEK = 3  # the seed article: 3-4 times a week (daily for people who sit a lot)


def local_day(iso_utc: str, tz: tzinfo | None = None) -> date:
    """The calendar day a stored UTC time falls on where the person is.

    tz None means the system's local zone, DST included (astimezone(None) does that).
    """
    return datetime.fromisoformat(iso_utc).astimezone(tz).date()


def streak(days: Iterable[date], today: date) -> int:
    """Consecutive days with a session, ending today, or yesterday if today has none yet:
    a streak is still alive in the morning before today's session."""
    have = set(days)
    end = today if today in have else today - timedelta(days=1)
    count = 0
    while end - timedelta(days=count) in have:
        count += 1
    return count


def window_start(today: date, days: int) -> date:
    """First day of the `days`-day window that ends with today (today counts as day one)."""
    return today - timedelta(days=max(days, 1) - 1)


def count_in_window(days: Iterable[date], today: date, length: int) -> int:
    start = window_start(today, length)
    return sum(1 for d in days if start <= d <= today)


def behind(days: list[date], today: date) -> bool:
    """Fewer than the seed's 3 sessions in the last 7 days, for someone past their first week.

    A newcomer has not had a full week yet: telling them they are behind would be unkind
    and untrue, so the check waits until their first session is a week old.
    """
    if not days or min(days) > today - timedelta(days=WEEK):
        return False
    return count_in_window(days, today, WEEK) < TARGET_PER_WEEK
