"""A small fake coach with the real one's status and command shapes."""

from __future__ import annotations

import threading
from typing import Any

TOKEN = "test-token-0123456789"


class FakeCoach:
    """Status and command callables with the coach's shapes; records what it was asked."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.commands: list[str] = []
        self.state: dict[str, Any] = {
            "state": "hold",
            "routine": "quick",
            "routine_name": "Quick routine",
            "stretch": "kneeling_lunge",
            "stretch_name": "Kneeling lunge",
            "stretch_index": 0,
            "stretch_count": 2,
            "step": 2,
            "step_count": 3,
            "step_text": "Shift your weight forward.",
            "side": "left",
            "hold_seconds": 30,
            "remaining_seconds": 17.0,
            "paused": False,
            "speaking": False,
            "listening": True,
            "last_heard": None,
            "last_intent": None,
            "count_style": "marks",
            "progress": 0.35,
            "engine": "fake",
            "tts": "idle",
        }

    def status(self) -> dict[str, Any]:
        with self.lock:
            return dict(self.state)

    def command(self, text: str) -> dict[str, Any]:
        with self.lock:
            self.commands.append(text)
            intent = "Pause" if "pause" in text else None
            if intent:
                self.state["paused"] = True
            return {
                "text": text,
                "intent": intent,
                "slots": {},
                "response": "Paused." if intent else None,
            }
