"""`stretch-coach history`: past sessions, the streak and this week's count."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from voice.cli.common import emit_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="show past sessions, the streak and this week's count",
        description=(
            "Sessions kept in history.sqlite3 in the user data dir "
            "(STRETCH_COACH_HOME overrides the dir). Data on stdout."
        ),
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--limit", type=_positive, default=10, metavar="N",
                        help="how many recent sessions (default 10)")  # fmt: skip
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above zero, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    import sqlite3

    from voice.errors import UserError

    try:
        report = _report(args.limit)
    except (sqlite3.OperationalError, OSError) as exc:
        # Unreadable dir, locked beyond the busy timeout, disk full: one line, no traceback.
        raise UserError(f"cannot read the session history: {exc}") from exc
    if args.json:
        emit_json(report)
    else:
        print(_table(report))
    return 0


def _report(limit: int) -> dict[str, Any]:
    from voice.store.history import HistoryStore

    with HistoryStore() as store:
        today = store.today()
        return {
            "sessions": store.sessions(limit),
            "streak_days": store.streak_days(today),
            "this_week": store.count_since(7, today),
            "last": store.last_session(),
            "behind_schedule": store.behind_schedule(today),
            "path": str(store.path),
        }


def _table(report: dict[str, Any]) -> str:
    lines = [
        f"Streak: {report['streak_days']} day(s)   Last 7 days: {report['this_week']} session(s)"
        + ("   (3-4 a week is the goal)" if report["behind_schedule"] else "")
    ]
    sessions: list[dict[str, Any]] = report["sessions"]
    if not sessions:
        lines.append("No sessions yet.")
        return "\n".join(lines)
    lines.append(f"{'started':<20} {'min':>4}  {'done':>5}  {'status':<9} routine")
    for s in sessions:
        status = "completed" if s["completed"] else ("stopped" if s["counted"] else "abandoned")
        done = f"{s['stretches_done']}/{s['stretch_count']}"
        started = _local(s["started_at"])
        minutes = round(s["duration_seconds"] / 60)
        name = s["routine_name"] or s["routine"]
        lines.append(f"{started:<20} {minutes:>4}  {done:>5}  {status:<9} {name}")
    return "\n".join(lines)


def _local(iso_utc: str) -> str:
    """Stored times are UTC; people read their own clock."""
    return datetime.fromisoformat(iso_utc).astimezone().strftime("%Y-%m-%d %H:%M")
