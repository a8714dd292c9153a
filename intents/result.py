"""What recognizing one utterance yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IntentResult:
    text: str
    intent: str | None
    slots: dict[str, str] = field(default_factory=dict)
    source: str = "none"  # "template", "faq-rank" or "none"
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "intent": self.intent, "slots": dict(self.slots)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IntentResult:
        return cls(str(data["text"]), data.get("intent"), dict(data.get("slots") or {}))
