"""Choose and build a recognizer: `auto` means Vosk when a model is present, else PocketSphinx."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from voice.hearing.endpoint import EndpointSettings
from voice.hearing.frontend import FrontendSettings
from voice.hearing.grammar import CompiledGrammar
from voice.hearing.pocketsphinx_engine import DecoderSettings
from voice.ports import Recognizer, Transcript

ENGINES = ("auto", "pocketsphinx", "vosk")


class FileRecognizer(Recognizer, Protocol):
    """A Recognizer that can also decode one whole recording (files, evaluation)."""

    def decode(self, pcm: Any, *, gate: bool = True) -> Transcript: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class EngineSpec:
    """Everything needed to build a recognizer; picklable so eval workers can build their own."""

    engine: str = "auto"
    vosk_model: str | None = None
    decoder: DecoderSettings = field(default_factory=DecoderSettings)
    frontend: FrontendSettings = field(default_factory=FrontendSettings)
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)


def resolve(spec: EngineSpec) -> tuple[str, Path | None]:
    """The concrete engine name and, for Vosk, the model directory."""
    from voice.hearing.models import find_model

    if spec.engine not in ENGINES:
        raise ValueError(f"unknown engine {spec.engine!r} (choose from {', '.join(ENGINES)})")
    model = find_model(spec.vosk_model) if spec.engine in ("auto", "vosk") else None
    if spec.engine == "vosk" and model is None:
        raise ValueError(
            "engine vosk needs a model: pass --vosk-model PATH or run "
            "`stretch-coach models download NAME`"
        )
    if spec.engine == "pocketsphinx" or model is None:
        return "pocketsphinx", None
    return "vosk", model


def create(spec: EngineSpec, grammars: Mapping[str, CompiledGrammar]) -> FileRecognizer:
    name, model = resolve(spec)
    if name == "vosk":
        from voice.hearing.vosk_engine import VoskRecognizer

        assert model is not None
        return VoskRecognizer(model, grammars, frontend=spec.frontend, endpoint=spec.endpoint)
    from voice.hearing.pocketsphinx_engine import PocketSphinxRecognizer

    return PocketSphinxRecognizer(
        grammars, decoder=spec.decoder, frontend=spec.frontend, endpoint=spec.endpoint
    )
