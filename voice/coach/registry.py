"""Intent name -> handler. Handler modules register themselves with @handles."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from voice.coach.events import Heard

if TYPE_CHECKING:
    from voice.coach.machine import Coach

Handler = Callable[["Coach", Heard], None]
HANDLERS: dict[str, Handler] = {}


def handles(*intents: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of one or more intents."""

    def register(fn: Handler) -> Handler:
        for name in intents:
            HANDLERS[name] = fn
        return fn

    return register


def handled_intents() -> frozenset[str]:
    return frozenset(HANDLERS)
