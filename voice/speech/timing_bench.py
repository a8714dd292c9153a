"""Speech timing benchmarks: count onsets vs deadlines, drift over a routine, stop to silence.

    python -m bench.speech_timing                 # 3-minute routine + 20 stops (about 4 min)
    python -m bench.speech_timing --minutes 30    # the full 30-minute routine, real time
    python -m bench.speech_timing --load 2        # with 2 busy processes competing for the CPU

(bench/speech_timing.py is a thin wrapper; the code lives here so `stretch-coach bench` can call
`run_all()` from the installed package.)

Everything runs on the real clock (time.monotonic) with the real pyttsx3/espeak-ng renderer and
the WAV directory output, so the figures include rendering, thread wake-ups and the audio
actually written. Two onset measures are reported for count cues:

* "player": when the player thread started the cue (index.json ``started``) minus its deadline;
* "audio": where the count's first audible sample sits in timeline.wav minus where its deadline
  falls on that timeline. This is what a listener of the WAVs would hear.

Cues reach the output a pre-roll (100 ms) before their deadline and the output places them on it,
so onset error is zero unless the player thread wakes later than the pre-roll; "preroll_left"
shows how much of that margin was left (its minimum is the worst wake-up seen).

Not a test: figures depend on the machine. `run_all()` returns them as a dict for a CLI.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from voice.ports import SpeechEvent, Utterance
from voice.speech.outputs import WavDirOutput
from voice.speech.render import Pyttsx3Renderer
from voice.speech.speaker import TtsSpeaker

HOLD = 30  # seconds per side
SIDE_PERIOD = 45.0  # instruction + hold + release + rest

_ONES = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]


def number_word(n: int) -> str:
    if n < 10:
        return _ONES[n - 1]
    if n < 20:
        return _TEENS[n - 10]
    tens = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty"}[n // 10]
    return tens if n % 10 == 0 else f"{tens}-{_ONES[n % 10 - 1]}"


class MonoClock:
    def now(self) -> float:
        return time.monotonic()


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _ms(x: float) -> float:
    return round(x * 1000.0, 2)


def _burn_cpu(n: int) -> list[subprocess.Popen[bytes]]:
    code = "while True: pass"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def _side_plan(t: float, side: int, uid: Callable[[], int]) -> list[Utterance]:
    leg = "left" if side % 2 else "right"
    plan = [
        Utterance(uid(), f"Switch sides. Kneel on your {leg} knee and tuck your pelvis under.",
                  "instruction", at=t),
        Utterance(uid(), "Hold for thirty seconds.", "instruction", at=t + 4.5),
    ]  # fmt: skip
    hold_start = t + 6.0
    plan += [
        Utterance(uid(), number_word(k), "count", at=hold_start + k) for k in range(1, HOLD + 1)
    ]
    plan.append(Utterance(uid(), "And release.", "count", at=hold_start + HOLD + 0.6))
    return plan


def bench_routine(minutes: float, out_dir: Path) -> dict[str, Any]:
    """Speak a routine of 30-second holds for `minutes` on the wall clock; all cues are
    anchored to one session origin, so any drift would show as onset error growing with time."""
    clock = MonoClock()
    events: list[SpeechEvent] = []
    output = WavDirOutput(out_dir)
    speaker = TtsSpeaker(clock, events.append, output, renderer=Pyttsx3Renderer())
    ids = iter(range(1, 10**9))
    origin = clock.now() + 1.0
    sides = max(1, int(minutes * 60 // SIDE_PERIOD))
    counts_scheduled = 0
    for side in range(sides):
        t = origin + side * SIDE_PERIOD
        # Like the coach: emit a side's lines shortly before it starts, and a chatty info
        # line in the middle of the hold that has to wait for the counting to finish.
        time.sleep(max(0.0, t - 2.0 - clock.now()))
        plan = _side_plan(t, side, lambda: next(ids))
        counts_scheduled += sum(1 for u in plan if u.kind == "count")
        for u in plan:
            speaker.say(u)
        time.sleep(max(0.0, t + 12.0 - clock.now()))
        speaker.say(Utterance(next(ids), "Breathe out slowly and keep your back tall.", "info"))
    speaker.wait_idle(SIDE_PERIOD * 2)
    speaker.close()
    index = json.loads((out_dir / "index.json").read_text())
    return _analyse(index, out_dir, counts_scheduled, minutes)


def _audio_onset(audio: np.ndarray[Any, Any], rate: int, at: float) -> float | None:
    """First sample above threshold near `at` seconds into the timeline (None: silent)."""
    lo = max(0, int((at - 0.1) * rate))
    hi = min(len(audio), int((at + 0.5) * rate))
    loud = np.flatnonzero(np.abs(audio[lo:hi]) > 0.01 * 32767)
    return None if loud.size == 0 else (lo + int(loud[0])) / rate


def _analyse(
    index: dict[str, Any], out_dir: Path, scheduled: int, minutes: float
) -> dict[str, Any]:
    entries = index["utterances"]
    origin = float(index["origin"])
    counts = [e for e in entries if e["kind"] == "count" and e["scheduled"] is not None]
    player = [float(e["onset_error"]) for e in counts]
    # How much of the pre-roll was left when each cue reached the output (0: the player woke
    # too late and the count was late by the shortfall).
    leads = [float(e["lead"]) for e in counts if e.get("lead") is not None]
    audio, rate = sf.read(str(out_dir / "timeline.wav"), dtype="int16")
    audio_err: list[float] = []
    for e in counts:
        onset = _audio_onset(audio, rate, float(e["scheduled"]) - origin)
        if onset is not None:
            audio_err.append(onset - (float(e["scheduled"]) - origin))
    # Drift: does the onset error grow over the session? Slope of error against time, and the
    # mean error in the last quarter minus the first quarter.
    times = np.array([float(e["scheduled"]) - origin for e in counts])
    errs = np.array(player)
    slope = float(np.polyfit(times, errs, 1)[0]) if len(counts) > 2 else 0.0
    q = max(1, len(counts) // 4)
    holds = _hold_lengths(counts)
    return {
        "minutes": minutes,
        "wall_seconds": round(float(entries[-1]["started"]) - origin, 1) if entries else 0.0,
        "counts_scheduled": scheduled,
        "counts_spoken": len(counts),
        "counts_dropped": scheduled - len(counts),
        "counts_shortened": sum(1 for e in counts if e["shortened"]),
        "player_onset_ms": {
            "p50": _ms(_pct(player, 50)),
            "p99": _ms(_pct(player, 99)),
            "max": _ms(max(player, default=float("nan"))),
        },  # fmt: skip
        "audio_onset_ms": {
            "p50": _ms(_pct(audio_err, 50)),
            "p99": _ms(_pct(audio_err, 99)),
            "max": _ms(max(audio_err, default=float("nan"))),
        },  # fmt: skip
        "preroll_left_ms": {
            "min": _ms(min(leads, default=float("nan"))),
            "p1": _ms(_pct(leads, 1)),
            "p50": _ms(_pct(leads, 50)),
        },  # fmt: skip
        "drift_ms_per_hour": round(slope * 3600 * 1000, 3),
        "drift_last_minus_first_quarter_ms": _ms(float(errs[-q:].mean() - errs[:q].mean())),
        "hold_length_error_ms_max": _ms(max((abs(h) for h in holds), default=0.0)),
        "info_lines_spoken": sum(1 for e in entries if e["kind"] == "info"),
    }


def _hold_lengths(counts: list[dict[str, Any]]) -> list[float]:
    """Actual minus scheduled time from each hold's first count to its "And release"."""
    out: list[float] = []
    first: dict[str, Any] | None = None
    for e in counts:
        if e["text"] == "one":
            first = e
        elif e["text"] == "And release." and first is not None:
            actual = float(e["started"]) - float(first["started"])
            planned = float(e["scheduled"]) - float(first["scheduled"])
            out.append(actual - planned)
            first = None
    return out


def _seen(events: list[SpeechEvent], uid: int, n: int) -> bool:
    return sum(1 for e in events if e.utterance_id == uid) >= n


LONG = " ".join(["Keep breathing slowly and let the front of the hip open."] * 8)


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50": _ms(_pct(values, 50)), "p99": _ms(_pct(values, 99)), "max": _ms(max(values))}


def bench_stop(trials: int, out_dir: Path, seed: int = 7) -> dict[str, Any]:
    """interrupt() during a long line, at a random point.

    * stop_to_silenced: interrupt() returns once the output has been told to go silent (it is
      done on the caller's thread); a sound card then goes quiet at its next block (about
      12 ms) plus its output latency;
    * audio_after_stop: audio the WAV output kept past the moment interrupt() was called;
    * stop_to_finished_event: when the listener actually received "finished" (the player
      thread's bookkeeping; what the status's `speaking` waits for).
    """
    clock = MonoClock()
    rng = np.random.default_rng(seed)
    cond = threading.Condition()
    events: list[SpeechEvent] = []
    received: dict[int, float] = {}

    def listener(e: SpeechEvent) -> None:
        with cond:
            events.append(e)
            if e.phase == "finished":
                received[e.utterance_id] = clock.now()
            cond.notify_all()

    output = WavDirOutput(out_dir)
    speaker = TtsSpeaker(clock, listener, output, prewarm=())
    silenced: list[float] = []
    calls: list[tuple[int, float]] = []
    for i in range(1, trials + 1):
        speaker.say(Utterance(i, LONG, "instruction"))
        with cond:
            cond.wait_for(functools.partial(_seen, events, i, 1), 30)
        time.sleep(float(rng.uniform(0.3, 1.5)))
        t_call = clock.now()
        speaker.interrupt()
        silenced.append(clock.now() - t_call)
        calls.append((i, t_call))
        with cond:
            cond.wait_for(functools.partial(_seen, events, i, 2), 30)
        speaker.wait_idle(5)
    speaker.close()
    entries = {e["id"]: e for e in json.loads((out_dir / "index.json").read_text())["utterances"]}
    extra = [float(entries[i]["duration"]) - (t - float(entries[i]["started"])) for i, t in calls]
    return {
        "trials": trials,
        "stop_to_silenced_ms": _stats(silenced),
        "audio_after_stop_ms": _stats(extra),
        "stop_to_finished_event_ms": _stats([received[i] - t for i, t in calls]),
    }


def run_all(
    minutes: float = 3.0, stops: int = 20, load: int = 0, keep: Path | None = None
) -> dict[str, Any]:
    """Both benchmarks; `keep` saves the routine's WAVs, index.json and timeline.wav there."""
    burners = _burn_cpu(load)
    try:
        with tempfile.TemporaryDirectory(prefix="speech-bench-") as tmp:
            where = keep if keep is not None else Path(tmp)
            result: dict[str, Any] = {"load_processes": load}
            result["routine"] = bench_routine(minutes, where / "routine")
            result["stop"] = bench_stop(stops, where / "stop")
            return result
    finally:
        for p in burners:
            p.kill()
            p.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.speech_timing", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--minutes", type=float, default=3.0, help="routine length (default 3)")
    ap.add_argument("--stops", type=int, default=20, help="interrupt trials (default 20)")
    ap.add_argument("--load", type=int, default=0, help="busy processes competing for CPU")
    ap.add_argument("--keep", type=Path, default=None, metavar="DIR",
                    help="keep the WAVs, index.json and timeline.wav in DIR")  # fmt: skip
    args = ap.parse_args(argv)
    result = run_all(args.minutes, args.stops, args.load, args.keep)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
