"""Where the listening process's memory goes: RSS after each step of a start-up, in order.

`python -m voice.bench.memory` runs in a fresh process and prints one JSON line per step:
resident set size (VmRSS), its growth over the previous step, the high-water mark (VmHWM),
and the anonymous / file-backed split. The steps follow what `stretch-coach run` needs:
the libraries, the content and grammars, each PocketSphinx state grammar added to the
decoder one by one (each is a separate FSG search), decoding 10 s of kitchen noise, then
the libraries that only the microphone, Vosk, HTTP and speech output need.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any


def status() -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon, RssFile of this process in MB (Linux)."""
    out: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024.0
    return out


class Steps:
    def __init__(self) -> None:
        self.last = status()
        self.rows: list[dict[str, Any]] = [{"step": "python started", **self._row(self.last, 0.0)}]

    @staticmethod
    def _row(now: dict[str, float], delta: float, secs: float = 0.0) -> dict[str, Any]:
        return {
            "rss_mb": round(now["VmRSS"], 1),
            "delta_mb": round(delta, 1),
            "hwm_mb": round(now["VmHWM"], 1),
            "anon_mb": round(now["RssAnon"], 1),
            "file_mb": round(now["RssFile"], 1),
            "s": round(secs, 2),
        }

    def step(self, name: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        try:
            value = fn()
        except Exception as err:  # noqa: BLE001 - a missing optional library is a row, not a crash
            self.rows.append({"step": f"{name} (failed: {type(err).__name__})"})
            return None
        now = status()
        delta = now["VmRSS"] - self.last["VmRSS"]
        self.rows.append({"step": name, **self._row(now, delta, time.perf_counter() - t)})
        self.last = now
        return value


def breakdown(noise_path: str | None) -> list[dict[str, Any]]:
    s = Steps()
    for module in ("numpy", "yaml", "hassil", "rapidfuzz", "soundfile", "soxr"):
        s.step(f"import {module}", lambda m=module: importlib.import_module(m))  # type: ignore[misc]
    from voice.appcontent import get_content

    content = s.step("load content (YAML)", get_content)
    from intents.templates import build_intents

    intents = s.step("build hassil intents", lambda: build_intents(content))
    from voice.hearing.grammar import compile_state_grammars
    from voice.hearing.listener import BARGE_IN, DEFAULT_STATE_INTENTS

    grammars = s.step(
        "compile per-state grammars",
        lambda: compile_state_grammars(intents, DEFAULT_STATE_INTENTS, always=BARGE_IN),
    )
    s.step("import pocketsphinx, webrtc_noise_gain", _import_engine_libs)
    from voice.hearing.pocketsphinx_engine import (
        PHONE_LOOP,
        DecoderSettings,
        PocketSphinxRecognizer,
        model_dir,
    )
    from voice.hearing.word_graph import word_graph

    # The recognizer's own steps, one at a time (same calls as its __init__).
    rec = PocketSphinxRecognizer.__new__(PocketSphinxRecognizer)
    import pocketsphinx

    rec._ps = pocketsphinx
    rec.decoder_settings = DecoderSettings()
    rec._extra = {}
    rec._grammars = dict(grammars)
    dict_file = s.step("pronunciation dictionary", lambda: rec._write_dictionary(grammars.values()))
    rec._dict_file = dict_file
    decoder = s.step("pocketsphinx Decoder (acoustic model)", rec._make_decoder)
    rec._decoder = decoder
    rec._loaded = set()
    rec._graphs = {}
    # Every state's grammar, for the breakdown: the product keeps only the active one.
    for name, g in grammars.items():
        graph = rec._graphs[g.name] = word_graph(g)  # _add_search takes it from here
        s.step(
            f"+ FSG search '{name}' ({len(g.vocabulary)} words, {graph.states} states, "
            f"{len(graph.arcs)} arcs)",
            lambda g=g: rec._add_search(g),  # type: ignore[misc]
        )
    s.step(
        "+ phone loop (confidence)",
        lambda: decoder.add_allphone_file(PHONE_LOOP, str(model_dir() / "en-us-phone.lm.bin")),
    )
    rec.close()
    if noise_path:
        from voice.hearing.audio_files import read_audio

        noise = read_audio(noise_path)[: 10 * 16000]

        def decode() -> None:
            decoder.activate_search(grammars["hold"].name)
            decoder.start_utt()
            decoder.process_raw(noise.tobytes(), False, True)
            decoder.end_utt()
            decoder.hyp()

        s.step("decode 10 s of kitchen noise (hold grammar)", decode)
    for module in ("sounddevice", "vosk", "flask", "waitress", "prometheus_client"):
        s.step(f"import {module}", lambda m=module: importlib.import_module(m))  # type: ignore[misc]
    s.step("pyttsx3/espeak-ng renderer + first line", _tts)
    s.step("import voice.http", lambda: importlib.import_module("voice.http"))
    return s.rows


def _import_engine_libs() -> None:
    importlib.import_module("pocketsphinx")
    importlib.import_module("webrtc_noise_gain")


def _tts() -> None:
    from voice.speech.render import Pyttsx3Renderer, Voice

    Pyttsx3Renderer().render("ready", Voice())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m voice.bench.memory")
    ap.add_argument("--noise", help="noise recording to decode (default: skip that step)")
    args = ap.parse_args(argv)
    for row in breakdown(args.noise):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
