"""The intent handlers, one module per kind. Importing this package registers them all."""

from voice.coach.handlers import control, information, navigation, preferences
from voice.coach.registry import HANDLERS, handled_intents

__all__ = ["HANDLERS", "control", "handled_intents", "information", "navigation", "preferences"]
