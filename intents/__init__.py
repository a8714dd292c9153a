"""Text in, intent out: pure and deterministic, from the skill's hassil sentence templates."""

from intents.result import IntentResult

__all__ = ["IntentResult"]
