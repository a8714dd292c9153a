"""Command-line options shared by the hearing commands (transcribe, eval, run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice.hearing.endpoint import EndpointSettings
from voice.hearing.engines import ENGINES, EngineSpec
from voice.hearing.frontend import FrontendSettings
from voice.hearing.pocketsphinx_engine import DecoderSettings


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("speech engine")
    g.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="auto: Vosk when a model is present, else PocketSphinx (default)",
    )
    g.add_argument("--vosk-model", metavar="PATH", help="Vosk model directory or installed name")
    g.add_argument(
        "--noise-suppression",
        type=int,
        default=FrontendSettings().noise_suppression,
        choices=range(0, 5),
        metavar="0-4",
        help="WebRTC noise suppression level, 0 = off (default %(default)s)",
    )
    g.add_argument(
        "--auto-gain",
        type=int,
        default=FrontendSettings().auto_gain,
        metavar="DBFS",
        help="WebRTC automatic gain target in dBFS, 0 = off (default %(default)s)",
    )
    g.add_argument(
        "--trailing-silence",
        type=float,
        metavar="S",
        default=EndpointSettings().trailing_silence_s,
        help="seconds of silence that end an utterance (default %(default)s)",
    )
    g.add_argument(
        "--vad-mode",
        type=int,
        choices=range(0, 4),
        metavar="0-3",
        default=EndpointSettings().vad_mode,
        help="VAD aggressiveness (default %(default)s)",
    )
    g.add_argument(
        "--beam",
        type=float,
        default=DecoderSettings().beam,
        help="PocketSphinx beam (default %(default)g)",
    )
    g.add_argument(
        "--wbeam",
        type=float,
        default=DecoderSettings().wbeam,
        help="PocketSphinx word-exit beam (default %(default)g)",
    )
    g.add_argument(
        "--bestpath",
        action=argparse.BooleanOptionalAction,
        default=DecoderSettings().bestpath,
        help="PocketSphinx lattice rescoring: more CPU, unbounded on noise (default: off)",
    )
    g.add_argument(
        "--live-nbest",
        action=argparse.BooleanOptionalAction,
        default=DecoderSettings().live_nbest,
        help="PocketSphinx: when a live utterance never reaches a sentence's end, rescue its "
        "best partial path from the n-best list (files always do; default: off)",
    )
    g.add_argument(
        "--no-filler",
        action="store_true",
        help="PocketSphinx: no filler (noise) words between grammar words",
    )
    g.add_argument(
        "--ps-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra PocketSphinx decoder option, e.g. fillprob=1e-2 (repeatable)",
    )


def engine_spec(args: argparse.Namespace) -> EngineSpec:
    return EngineSpec(
        engine=args.engine,
        vosk_model=args.vosk_model,
        decoder=DecoderSettings(
            beam=args.beam,
            wbeam=args.wbeam,
            fsgusefiller=not args.no_filler,
            bestpath=args.bestpath,
            live_nbest=args.live_nbest,
            extra=_ps_options(args.ps_option),
        ),
        frontend=FrontendSettings(
            noise_suppression=args.noise_suppression, auto_gain=args.auto_gain
        ),
        endpoint=EndpointSettings(trailing_silence_s=args.trailing_silence, vad_mode=args.vad_mode),
    )


def default_sentences() -> list[Path]:
    """The project's own templates, used when --sentences is not given."""
    import content

    base = Path(content.__file__).parent / "en" / "sentences"
    return sorted(base.glob("*.yaml"))


def _ps_options(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--ps-option wants KEY=VALUE, got {pair!r}")
        parsed: object = value
        for cast in (int, float):
            try:
                parsed = cast(value)
                break
            except ValueError:
                continue
        out[key.strip()] = parsed
    return out
