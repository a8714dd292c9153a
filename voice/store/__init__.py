"""Session history, streaks and the crash-resume position, kept in one SQLite file.

The coach core stays pure: nothing here is imported by voice.coach. The runtime feeds a
Recorder (voice.store.recorder) and asks a HistoryStore for facts to speak or show.
"""

from __future__ import annotations

from voice.store.db import CorruptDatabase, NewerSchemaError, default_path
from voice.store.history import HistoryStore
from voice.store.recorder import Recorder

__all__ = [
    "CorruptDatabase",
    "HistoryStore",
    "NewerSchemaError",
    "Recorder",
    "default_path",
]
