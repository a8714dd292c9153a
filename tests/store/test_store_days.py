"""Streaks, weekly counts and 'behind schedule' on fixed dates, across day boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from voice.store import days as d
from voice.store.history import HistoryStore

TODAY = date(2024, 3, 10)


def day(offset: int) -> date:
    return TODAY - timedelta(days=offset)


def test_streak_counts_back_from_today() -> None:
    assert d.streak([day(0), day(1), day(2), day(4)], TODAY) == 3


def test_streak_is_alive_until_a_day_is_missed() -> None:
    # Morning, no session yet today: yesterday's streak still stands.
    assert d.streak([day(1), day(2)], TODAY) == 2
    # Two days without: the streak is over.
    assert d.streak([day(2), day(3)], TODAY) == 0


def test_streak_counts_days_not_sessions() -> None:
    assert d.streak([day(0), day(0), day(0)], TODAY) == 1
    assert d.streak([], TODAY) == 0


def test_streak_crosses_month_and_year_ends() -> None:
    new_year = date(2024, 1, 1)
    days = [new_year - timedelta(days=i) for i in range(5)]
    assert d.streak(days, new_year) == 5
    leap = date(2024, 3, 1)
    assert d.streak([leap, date(2024, 2, 29), date(2024, 2, 28)], leap) == 3


def test_future_days_do_not_extend_a_streak() -> None:
    assert d.streak([TODAY + timedelta(days=1)], TODAY) == 0


def test_window_includes_today_and_six_days_back() -> None:
    days = [day(0), day(6), day(7), day(-1)]
    assert d.count_in_window(days, TODAY, 7) == 2
    assert d.count_in_window(days, TODAY, 1) == 1


def test_behind_needs_three_in_seven_days() -> None:
    old = day(30)
    assert d.behind([old, day(0), day(3)], TODAY) is True
    assert d.behind([old, day(0), day(3), day(6)], TODAY) is False
    assert d.behind([old, day(0), day(0), day(0)], TODAY) is False  # sessions, not days
    assert d.behind([old], TODAY) is True


def test_newcomers_are_never_behind() -> None:
    assert d.behind([], TODAY) is False
    assert d.behind([day(1)], TODAY) is False
    assert d.behind([day(6)], TODAY) is False
    assert d.behind([day(7)], TODAY) is True


def test_local_day_uses_the_persons_zone() -> None:
    # 02:30 UTC on the 10th is still the evening of the 9th in New York (UTC-5 in winter).
    new_york = timezone(timedelta(hours=-5))
    assert d.local_day("2024-03-10T02:30:00+00:00", new_york) == date(2024, 3, 9)
    assert d.local_day("2024-03-10T02:30:00+00:00", UTC) == date(2024, 3, 10)


def _session(completed: bool = True, held: float = 30.0) -> dict[str, Any]:
    return {
        "routine": "daily",
        "completed": completed,
        "stretches_done": 1,
        "stretch_count": 1,
        "held": {"kneeling_lunge:left": held} if held else {},
    }


def test_store_counts_days_in_its_zone(tmp_path: Any) -> None:
    """Late-evening sessions belong to the local day, not the UTC one."""
    tokyo = timezone(timedelta(hours=9))
    now = datetime(2024, 3, 10, 22, 0, tzinfo=tokyo)
    with HistoryStore(tmp_path / "h.sqlite3", tz=tokyo, now=lambda: now) as store:
        for days_back in (0, 1, 2):
            # 23:30 Tokyo time is 14:30 UTC the same day; 08:30 Tokyo is 23:30 UTC the day
            # before. Both must land on the Tokyo day.
            late = datetime(2024, 3, 10, 23, 30, tzinfo=tokyo) - timedelta(days=days_back)
            early = datetime(2024, 3, 10, 8, 30, tzinfo=tokyo) - timedelta(days=days_back)
            store.record_session(_session(), late, late + timedelta(minutes=5))
            store.record_session(_session(), early, early + timedelta(minutes=5))
        assert store.streak_days() == 3
        assert store.count_since(1) == 2
        assert store.count_since(7) == 6
        assert store.sessions(1)[0]["day"] == "2024-03-10"


def test_store_streak_and_week_on_fixed_dates(store: HistoryStore) -> None:
    noon = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    for days_back in (1, 2, 3, 9):
        start = noon - timedelta(days=days_back)
        store.record_session(_session(), start, start + timedelta(minutes=10))
    today = noon.date()
    assert store.streak_days(today) == 3  # alive through yesterday
    assert store.streak_days(today + timedelta(days=1)) == 0  # missed a day
    assert store.count_since(7, today) == 3
    assert store.behind_schedule(today) is False
    # Four days later the window (the 8th to the 14th) holds only the 8th and the 9th.
    assert store.behind_schedule(today + timedelta(days=4)) is True


def test_start_then_stop_does_not_count(store: HistoryStore) -> None:
    noon = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    store.record_session(_session(completed=False, held=0), noon, noon)
    assert store.streak_days(noon.date()) == 0
    assert store.count_since(7, noon.date()) == 0
    [listed] = store.sessions()
    assert listed["counted"] is False
    assert store.last_session()["id"] == listed["id"]  # type: ignore[index]
    assert store.last_session(counted_only=True) is None
    # A stopped session that held something counts.
    store.record_session(_session(completed=False, held=12.0), noon, noon)
    assert store.streak_days(noon.date()) == 1
