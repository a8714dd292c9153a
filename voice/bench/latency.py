"""Latency: end of speech (known from the audio) -> intent -> first audio of the reply.

Commands from held-out voices are laid out in one stream (1 s before, 2 s after each), in a
quiet room or with kitchen noise, and played into the real listener (`build_listener`) at
the pace of a 30 ms-block microphone, in a child process (`python -m voice.bench.latency
--child ...`) so a stalled decoder cannot hold up the run. Before each command the listener
is switched to a state that accepts it. "To intent" is wall time from the end of the speech
to the listener's on_heard. "To first audio": on_heard hands the text to a coach thread as
the runtime does; a fresh idle `Coach` turns it into lines and the first one goes to the
real `TtsSpeaker` (pyttsx3/espeak-ng render thread, cue scheduler, player thread) with a
null output: the time is the speaker's "started" event, when the first sample is handed to
the output. Replies are measured for the commands an idle coach answers (start, questions,
help); hold commands get the intent figure only.
"""

from __future__ import annotations

import argparse
import json
import logging
import queue
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from voice.bench.common import KITCHEN, Bench, median, percentile
from voice.bench.corpus import HELDOUT_VOICES, pick_commands, speech_end, synth
from voice.hearing.audio_files import SAMPLE_RATE, read_audio, write_wav

_LOG = logging.getLogger("stretch-coach.bench")

LEAD_S = 1.0
TAIL_S = 2.0
WARM_S = 3.0  # the speaker pre-renders its count words first, as in `run`
# The held-out flite voices: only commands heard right are timed, and the engine hears the
# espeak-ng voices far worse (see the commands section), which would leave few to time.
LATENCY_VOICES = tuple(v for v in HELDOUT_VOICES if v.engine == "flite")
IDLE_REPLY = ("StartRoutine", "StartStretch", "AskFaq", "Help")
HOLD_FIRST = ("Pause", "Stop", "ReportPain", "TimeLeft", "Resume")


def latency_spec(bestpath: bool) -> Any:
    from voice.hearing.engines import EngineSpec
    from voice.hearing.pocketsphinx_engine import DecoderSettings

    return EngineSpec(engine="pocketsphinx", decoder=replace(DecoderSettings(), bestpath=bestpath))


def _chosen(n: int) -> list[Any]:
    from voice.bench.accuracy import state_for

    wanted = [cmd for cmd in pick_commands(60) if state_for(cmd.intent) in ("idle", "hold")]
    # Start commands first (the everyday ones), then the other idle replies; hold: barge-in first.
    idle = sorted(
        (cmd for cmd in wanted if cmd.intent in IDLE_REPLY),
        key=lambda cmd: IDLE_REPLY.index(cmd.intent),
    )
    hold = sorted(
        (cmd for cmd in wanted if state_for(cmd.intent) == "hold"),
        key=lambda cmd: HOLD_FIRST.index(cmd.intent) if cmd.intent in HOLD_FIRST else 99,
    )
    # Interleave idle and hold commands, so the listener switches state before most of them.
    out: list[Any] = []
    for a, b in zip(idle[: (n + 1) // 2], hold[: n // 2] + [None], strict=False):
        out.append(a)
        if b is not None:
            out.append(b)
    return out[:n]


def _stream(bench: Bench, snr: float | None, run: int) -> tuple[Path, list[dict[str, Any]]]:
    """The pass's audio and its marks (start, end of speech, state, intent, text)."""
    from voice.bench.accuracy import state_for
    from voice.bench.degrade import noisy

    chosen = _chosen(bench.sizes.latency_commands)
    voices = LATENCY_VOICES
    pieces, marks = [], []
    pos = 0
    for i, cmd in enumerate(chosen):
        pcm = synth(cmd.text, voices[(i + run) % len(voices)], bench.cache)
        lead = np.zeros(int(LEAD_S * SAMPLE_RATE), np.int16)
        tail = np.zeros(int(TAIL_S * SAMPLE_RATE), np.int16)
        start = (pos + len(lead)) / SAMPLE_RATE
        marks.append(
            {
                "at": pos / SAMPLE_RATE,
                "end": start + speech_end(pcm),
                "state": state_for(cmd.intent),
                "intent": cmd.intent,
                "text": cmd.text,
            }
        )
        pieces += [lead, pcm, tail]
        pos += len(lead) + len(pcm) + len(tail)
    audio = np.concatenate(pieces)
    label = "quiet" if snr is None else f"kitchen{snr:g}"
    if snr is not None:
        audio = noisy(audio, read_audio(KITCHEN), snr, 5 + run, f"latency-{run}")
    path = bench.path("latency", f"{label}-{run}.wav")
    write_wav(path, audio)
    return path, marks


def run(bench: Bench, bestpath: bool = False) -> dict[str, Any]:
    s = bench.sizes
    conditions = []
    for snr in s.latency_noise:
        passes = []
        for p in range(s.latency_passes):
            wav, marks = _stream(bench, snr, p)
            passes.append(_pass(wav, marks, bestpath))
        conditions.append(
            _summarise("quiet room" if snr is None else f"kitchen {snr:g} dB", passes)
        )
    from voice.hearing.endpoint import EndpointSettings
    from voice.hearing.pocketsphinx_engine import DecoderSettings

    return {
        "bestpath": bestpath,
        "voices": [v.id for v in LATENCY_VOICES],
        "trailing_silence_s": EndpointSettings().trailing_silence_s,
        "early_silence_s": EndpointSettings().early_silence_s,
        "early_min_confidence": DecoderSettings().early_min_confidence,
        "commands_per_pass": s.latency_commands,
        "passes": s.latency_passes,
        "conditions": conditions,
    }


def _pass(wav: Path, marks: list[dict[str, Any]], bestpath: bool) -> dict[str, Any]:
    marks_path = wav.with_suffix(".json")
    marks_path.write_text(json.dumps(marks), encoding="utf-8")
    stream_s = marks[-1]["end"] + TAIL_S if marks else 0.0
    limit = WARM_S + stream_s + 90.0
    cmd = [sys.executable, "-m", "voice.bench.latency", "--child", str(wav), str(marks_path)]
    if bestpath:
        cmd.append("--bestpath")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events: list[dict[str, Any]] = []
    done: dict[str, Any] = {}
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + limit
    stalled = False
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            stalled = True
            proc.kill()
            break
        if line is None:
            break
        msg = json.loads(line)
        if msg.get("event") == "heard":
            events.append(msg)
        elif msg.get("event") == "done":
            done = msg
    proc.wait(10)
    err = proc.stderr.read() if proc.stderr else ""
    if not done and not stalled:
        raise RuntimeError(f"latency child failed: {err.strip().splitlines()[-1:]}")
    return {
        "wav": wav.name,
        "commands": len(marks),
        "idle_replies": sum(1 for m in marks if m["intent"] in IDLE_REPLY),
        "events": events,
        "stalled": stalled,
        "stream_s": round(stream_s, 1),
    }


def _summarise(label: str, passes: list[dict[str, Any]]) -> dict[str, Any]:
    per_pass = []
    all_intent: list[float] = []
    all_audio: list[float] = []
    for p in passes:
        ok = [e for e in p["events"] if e["correct"]]
        to_intent = [e["to_intent_s"] for e in ok]
        to_audio = [e["to_audio_s"] for e in ok if e.get("to_audio_s") is not None]
        all_intent += to_intent
        all_audio += to_audio
        per_pass.append(
            {
                "commands": p["commands"],
                "heard_correct": len(ok),
                "replies": len(to_audio),
                "intent_p50": percentile(to_intent, 50),
                "intent_p95": percentile(to_intent, 95),
                "audio_p50": percentile(to_audio, 50),
                "audio_p95": percentile(to_audio, 95),
                "stalled": p["stalled"],
                "wrong": [e for e in p["events"] if not e["correct"]][:5],
            }
        )

    def med(key: str) -> float:
        return median([x[key] for x in per_pass if x[key] == x[key]])

    return {
        "condition": label,
        "passes": per_pass,
        "commands": sum(p["commands"] for p in passes),
        "idle_replies": sum(p["idle_replies"] for p in passes),
        "heard_correct": len(all_intent),
        "replies": len(all_audio),
        "stalled_passes": sum(1 for p in passes if p["stalled"]),
        # Median over the passes of each pass's percentile (the figure), and the pooled ones.
        "intent_p50": med("intent_p50"),
        "intent_p95": med("intent_p95"),
        "audio_p50": med("audio_p50"),
        "audio_p95": med("audio_p95"),
        "pooled_intent_p50": percentile(all_intent, 50),
        "pooled_intent_p95": percentile(all_intent, 95),
        "pooled_audio_p50": percentile(all_audio, 50),
        "pooled_audio_p95": percentile(all_audio, 95),
        "stream_s": sum(p["stream_s"] for p in passes),
    }


# --- child -------------------------------------------------------------------------------


def child(wav: str, marks_path: str, bestpath: bool) -> int:
    from voice.appcontent import get_content
    from voice.bench.common import coach_intents
    from voice.bench.paced import PacedSource
    from voice.coach import commands as c
    from voice.coach.events import Heard
    from voice.coach.machine import Coach
    from voice.hearing.listener import build_listener
    from voice.hearing.verify import Verifier
    from voice.ports import SpeechEvent
    from voice.runtime.clock import MonotonicClock
    from voice.speech.outputs import NullOutput
    from voice.speech.speaker import TtsSpeaker

    marks: list[dict[str, Any]] = json.loads(Path(marks_path).read_text(encoding="utf-8"))
    audio = read_audio(wav)
    intents = coach_intents()
    verifier = Verifier(intents)
    content = get_content()
    out_lock = threading.Lock()

    def emit(msg: dict[str, Any]) -> None:
        with out_lock:
            print(json.dumps(msg), flush=True)

    started: dict[int, float] = {}
    started_cond = threading.Condition()

    def on_speech(event: SpeechEvent) -> None:
        if event.phase == "started":
            with started_cond:
                started.setdefault(event.utterance_id, event.at)
                started_cond.notify_all()

    speaker = TtsSpeaker(MonotonicClock(), on_speech, NullOutput())
    time.sleep(WARM_S)

    box: dict[str, Any] = {"listener": None, "next": 0}
    heard_q: queue.Queue[tuple[str, float] | None] = queue.Queue()

    def on_position(p: float) -> None:
        k = box["next"]
        if k < len(marks) and p >= marks[k]["at"]:
            box["next"] = k + 1
            if box["listener"] is not None:
                box["listener"].set_state(marks[k]["state"])

    source = PacedSource(audio, on_position=on_position)
    listener = build_listener(
        source,
        intents,
        lambda text, conf, end: heard_q.put((text, time.monotonic())),
        spec=latency_spec(bestpath),
        initial_state=str(marks[0]["state"]) if marks else "idle",
    )
    box["listener"] = listener

    def coach_thread() -> None:
        while True:
            item = heard_q.get()
            if item is None:
                return
            text, t_heard = item
            assert source.t0 is not None
            pos_now = t_heard - source.t0
            past = [m for m in marks if m["end"] <= pos_now]
            mark = past[-1] if past else marks[0]
            t_end = source.t0 + mark["end"]
            match = verifier.match(text)
            intent = match[0] if match else None
            ev: dict[str, Any] = {
                "event": "heard",
                "said": mark["text"],
                "heard": text,
                "intent": intent,
                "correct": intent == mark["intent"],
                "to_intent_s": t_heard - t_end,
            }
            if match and ev["correct"] and mark["intent"] in IDLE_REPLY:
                coach = Coach(content)
                cmds = coach.handle(Heard(time.monotonic(), text, match[0], dict(match[1])))
                says = [x.utterance for x in cmds if isinstance(x, c.Say)]
                if says:
                    box["said"] = box.get("said", 0) + 1
                    first = replace(says[0], id=1_000_000 + box["said"], at=None)
                    speaker.say(first)
                    uid = first.id
                    with started_cond:
                        started_cond.wait_for(lambda: uid in started, timeout=20)  # noqa: B023
                    if first.id in started:
                        ev["to_audio_s"] = started[first.id] - t_end
                        ev["reply"] = first.text[:60]
                    speaker.interrupt()
            emit(ev)

    worker = threading.Thread(target=coach_thread, daemon=True)
    worker.start()
    listener.start()
    listener.join()
    heard_q.put(None)
    worker.join(30)
    speaker.close()
    emit({"event": "done", "error": repr(listener.error) if listener.error else None})
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m voice.bench.latency")
    ap.add_argument("--child", nargs=2, metavar=("WAV", "MARKS"), required=True)
    ap.add_argument("--bestpath", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return child(args.child[0], args.child[1], args.bestpath)


if __name__ == "__main__":
    raise SystemExit(main())
