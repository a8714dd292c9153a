"""Command-line options shared by the hearing commands (transcribe, eval, run)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice.hearing.endpoint import EndpointSettings
from voice.hearing.engines import ENGINES, EngineSpec
from voice.hearing.frontend import FrontendSettings
from voice.hearing.pocketsphinx_engine import DecoderSettings

Settings = FrontendSettings | EndpointSettings | DecoderSettings


@dataclass(frozen=True)
class _Option:
    """One command-line option that sets one field of a settings dataclass."""

    flag: str
    owner: type[Settings]
    attr: str
    help: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


_ON_OFF = {"action": argparse.BooleanOptionalAction}


def transform_file(text: str) -> str:
    """An MLLR file that parses, or '' for none: a bad one is one clear line, not a crash."""
    from voice.hearing.adaptation.mllr import TransformFormatError, read

    if text.strip().lower() in ("", "none"):
        return ""
    try:
        read(Path(text))
    except OSError as err:
        raise argparse.ArgumentTypeError(f"{text}: {err.strerror or err}") from err
    except TransformFormatError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    return text


# The option and the field it sets live in one row, so the parser and engine_spec agree.
_OPTIONS = (
    _Option("--noise-suppression", FrontendSettings, "noise_suppression",
            "WebRTC noise suppression level, 0 = off",
            {"type": int, "choices": range(0, 5), "metavar": "0-4"}),
    _Option("--rnnoise", FrontendSettings, "rnnoise",
            "RNNoise noise removal before the WebRTC stage", _ON_OFF),
    _Option("--rnnoise-floor", FrontendSettings, "rnnoise_floor_db",
            "RNNoise runs while the room's noise floor is above this (dBFS)",
            {"type": float, "metavar": "DB"}),
    _Option("--rnnoise-keep", FrontendSettings, "rnnoise_keep",
            "share of the unprocessed audio RNNoise's output keeps, 0 = none (a limit on "
            "how much it takes away)", {"type": float, "metavar": "F"}),
    _Option("--auto-gain", FrontendSettings, "auto_gain",
            "WebRTC automatic gain target in dBFS, 0 = off", {"type": int, "metavar": "DBFS"}),
    _Option("--trailing-silence", EndpointSettings, "trailing_silence_s",
            "seconds of silence that end an utterance", {"type": float, "metavar": "S"}),
    _Option("--early-silence", EndpointSettings, "early_silence_s",
            "PocketSphinx: seconds of silence after a complete command that no longer one "
            "of another meaning continues before it is heard, 0 = wait for --trailing-silence",
            {"type": float, "metavar": "S"}),
    _Option("--continued-silence", EndpointSettings, "continued_silence_s",
            "PocketSphinx: the same for a complete command a longer one of another meaning "
            "continues (\"stop\" / \"stop the music\"), 0 = wait for --trailing-silence",
            {"type": float, "metavar": "S"}),
    _Option("--vad-mode", EndpointSettings, "vad_mode", "VAD aggressiveness",
            {"type": int, "choices": range(0, 4), "metavar": "0-3"}),
    _Option("--noise-margin", EndpointSettings, "noise_margin_db",
            "speech must be this many dB above the recent noise floor, 0 = the VAD alone",
            {"type": float, "metavar": "DB"}),
    _Option("--beam", DecoderSettings, "beam", "PocketSphinx beam", {"type": float}),
    _Option("--wbeam", DecoderSettings, "wbeam", "PocketSphinx word-exit beam", {"type": float}),
    _Option("--filler", DecoderSettings, "fsgusefiller",
            "PocketSphinx: filler (noise) words between grammar words", _ON_OFF),
    _Option("--bestpath", DecoderSettings, "bestpath",
            "PocketSphinx lattice rescoring: more CPU, unbounded on noise", _ON_OFF),
    _Option("--live-nbest", DecoderSettings, "live_nbest",
            "PocketSphinx: when a live utterance never reaches a sentence's end, rescue its "
            "best partial path from the n-best list (files always do)", _ON_OFF),
    _Option("--second-look", DecoderSettings, "second_look",
            "PocketSphinx: a result rejected as misheard in a noisy room is decoded again "
            "from the unprocessed audio", _ON_OFF),
    _Option("--mllr", DecoderSettings, "mllr",
            "PocketSphinx: MLLR transform of the acoustic model (`stretch-coach adapt` "
            "writes one), none = the model as shipped",
            {"type": transform_file, "metavar": "FILE"}),
    _Option("--word-graph", DecoderSettings, "word_graph",
            "PocketSphinx: search each grammar as its minimal word automaton, not "
            "PocketSphinx's own JSGF conversion", _ON_OFF),
)  # fmt: skip


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("speech engine")
    g.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="auto: Vosk when a model is present, else PocketSphinx (default)",
    )
    g.add_argument("--vosk-model", metavar="PATH", help="Vosk model directory or installed name")
    for option in _OPTIONS:
        default = getattr(option.owner(), option.attr)
        shown = ("on" if default else "off") if isinstance(default, bool) else "%(default)s"
        g.add_argument(
            option.flag,
            dest=option.dest,
            default=default,
            help=f"{option.help} (default {shown})",
            **option.kwargs,
        )
    g.add_argument(
        "--ps-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra PocketSphinx decoder option, e.g. fillprob=1e-2 (repeatable)",
    )


def engine_spec(args: argparse.Namespace) -> EngineSpec:
    def settings(owner: type[Settings]) -> dict[str, Any]:
        return {o.attr: getattr(args, o.dest) for o in _OPTIONS if o.owner is owner}

    return EngineSpec(
        engine=args.engine,
        vosk_model=args.vosk_model,
        decoder=DecoderSettings(**settings(DecoderSettings), extra=_ps_options(args.ps_option)),
        frontend=FrontendSettings(**settings(FrontendSettings)),
        endpoint=EndpointSettings(**settings(EndpointSettings)),
    )


def default_sentences() -> list[Path]:
    """The project's own templates, used when --sentences is not given."""
    import content

    base = Path(content.__file__).parent / "en" / "sentences"
    return sorted(base.glob("*.yaml"))


_BOOLEANS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


def _ps_options(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--ps-option wants KEY=VALUE, got {pair!r}")
        parsed: object = value
        # PocketSphinx's Config takes any non-empty string as true: "bestpath=no" was on.
        flag = _BOOLEANS.get(value.strip().lower())
        if flag is not None:
            out[key.strip()] = flag
            continue
        for cast in (int, float):
            try:
                parsed = cast(value)
                break
            except ValueError:
                continue
        out[key.strip()] = parsed
    return out
