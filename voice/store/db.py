"""Opening the history file: where it lives, WAL, migrations, and what to do when it is bad.

A corrupt file is never deleted: it is renamed to `history.sqlite3.corrupt-<UTC stamp>`
(with its -wal/-shm companions) and a fresh database takes its place, after one warning
line on stderr. Losing a streak is sad; refusing to coach because of it would be worse.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import platformdirs

from voice.errors import UserError
from voice.store.schema import LATEST, migrate, user_version

APP_NAME = "stretch-coach"
HOME_ENV = "STRETCH_COACH_HOME"  # same override as voice.http.auth: tests, portable installs
FILE_NAME = "history.sqlite3"
BUSY_TIMEOUT = 5.0  # seconds a writer waits for another writer before giving up

# Result codes that mean "the bytes are wrong", as opposed to locked, missing or read-only.
_CORRUPT_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


class NewerSchemaError(UserError):
    """The file was written by a newer stretch-coach; opening it here could damage it."""


class CorruptDatabase(sqlite3.DatabaseError):
    """quick_check found damage that SQLite itself did not raise on."""


def default_path() -> Path:
    override = os.environ.get(HOME_ENV)
    base = Path(override) if override else platformdirs.user_data_path(APP_NAME)
    return base / FILE_NAME


def is_corruption(exc: BaseException) -> bool:
    if isinstance(exc, CorruptDatabase):
        return True
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    # Extended codes keep the primary code in the low byte.
    return code is not None and (code & 0xFF) in _CORRUPT_CODES


def connect(path: Path) -> sqlite3.Connection:
    """One connection with the settings every connection needs (they are per connection)."""
    # Autocommit: transactions are explicit (BEGIN IMMEDIATE for writes), none left open
    # by accident to block checkpoints or other writers.
    # check_same_thread off only so the pool can close every thread's connection at the
    # end; each connection is still used by the one thread that made it.
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    # NORMAL in WAL mode survives a process crash or kill -9 (what resume is for) without
    # an fsync per status change; only a power cut can lose the last few commits.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _prepare(path: Path) -> None:
    """Check, switch to WAL and migrate; raises on corruption or a newer schema."""
    conn = connect(path)
    try:
        # Random bytes fail here already (SQLITE_NOTADB); subtler damage fails quick_check.
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise CorruptDatabase(str(result))
        version = user_version(conn)
        if version > LATEST:
            raise NewerSchemaError(
                f"{path} has history schema version {version}, newer than this "
                f"stretch-coach knows ({LATEST}); upgrade stretch-coach to use it"
            )
        conn.execute("PRAGMA journal_mode = WAL")  # persistent: stored in the file
        migrate(conn)
    finally:
        conn.close()


def _aside_name(path: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while candidate.exists():  # two corruptions in one second: keep both
        n += 1
        candidate = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    return candidate


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename the file and its WAL companions out of the way; nothing is deleted."""
    target = _aside_name(path, now or datetime.now(UTC))
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            # A stale WAL next to a fresh file could be replayed into it; keep it with its
            # own database instead.
            companion.rename(target.with_name(target.name + suffix))
    path.rename(target)
    return target


def open_database(path: Path, warn: TextIO | None = None) -> None:
    """Make path a usable, current database, recovering from a corrupt file once."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        _prepare(path)
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc):
            raise
        kept = move_aside(path)
        print(
            f"stretch-coach: warning: the history database {path} is damaged ({exc}); "
            f"kept it as {kept.name} and started a fresh one",
            file=warn or sys.stderr,
            flush=True,
        )
        _prepare(path)
    _owner_only(path)


def _owner_only(path: Path) -> None:
    """The history says when someone exercised and when it hurt: only its owner reads it."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path.with_name(name), 0o600)


class ConnectionPool:
    """One connection per thread: WAL lets readers run while a writer commits, but a
    sqlite3 connection must not be shared between threads without serialising them."""

    def __init__(self, path: Path, factory: Callable[[Path], sqlite3.Connection] = connect):
        self.path = path
        self._factory = factory
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the history store is closed")
            conn = self._factory(self.path)
            self._all.append(conn)
        self._local.conn = conn
        return conn

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
