"""Latency: end of speech (known from the audio) -> intent -> first audio of the reply.

Commands from held-out voices are laid out in one stream (1 s before, 2 s after each), light
kitchen noise (24 dB) added, and played into the real listener (`build_listener`) at the pace
of a 30 ms-block microphone. Before each command the listener is switched to a state that
accepts it. "To intent" is wall time from the end of the speech to the listener's on_heard.
"To first audio": on_heard hands the text to a coach thread as the runtime does; a fresh idle
`Coach` turns it into lines and the real renderer (pyttsx3/espeak-ng) renders the first one:
the reply's first sample exists then. Replies are measured for the commands an idle coach
answers (start, questions, help); hold commands get the intent figure only.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np

from voice.bench.common import KITCHEN, Bench, percentile
from voice.bench.corpus import HELDOUT_VOICES, pick_commands, speech_end, synth
from voice.hearing.audio_files import SAMPLE_RATE, read_audio

_LOG = logging.getLogger("stretch-coach.bench")

LEAD_S = 1.0
TAIL_S = 2.0
IDLE_REPLY = ("StartRoutine", "StartStretch", "AskFaq", "Help")
HOLD_FIRST = ("Pause", "Stop", "ReportPain", "TimeLeft", "Resume")


def latency_spec(bestpath: bool) -> Any:
    from voice.hearing.engines import EngineSpec
    from voice.hearing.pocketsphinx_engine import DecoderSettings

    return EngineSpec(engine="pocketsphinx", decoder=replace(DecoderSettings(), bestpath=bestpath))


def run(bench: Bench, bestpath: bool = False) -> dict[str, Any]:
    from voice.appcontent import get_content
    from voice.bench.accuracy import state_for
    from voice.bench.common import coach_intents
    from voice.bench.degrade import noisy
    from voice.bench.paced import PacedSource
    from voice.coach import commands as c
    from voice.coach.events import Heard
    from voice.coach.machine import Coach
    from voice.hearing.listener import build_listener
    from voice.hearing.verify import Verifier
    from voice.speech.render import Pyttsx3Renderer, Voice

    n = bench.sizes.latency_commands
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
    chosen = (idle[: (n + 1) // 2] + hold[: n // 2])[:n]
    voices = HELDOUT_VOICES[: max(1, bench.sizes.heldout_voices)]

    pieces, marks = [], []  # marks: (start_s, end_of_speech_s, state, command)
    pos = 0
    for i, cmd in enumerate(chosen):
        pcm = synth(cmd.text, voices[i % len(voices)], bench.cache)
        lead = np.zeros(int(LEAD_S * SAMPLE_RATE), np.int16)
        tail = np.zeros(int(TAIL_S * SAMPLE_RATE), np.int16)
        start = (pos + len(lead)) / SAMPLE_RATE
        marks.append((pos / SAMPLE_RATE, start + speech_end(pcm), state_for(cmd.intent), cmd))
        pieces += [lead, pcm, tail]
        pos += len(lead) + len(pcm) + len(tail)
    clean = np.concatenate(pieces)
    audio = noisy(clean, read_audio(KITCHEN), 24.0, 5, "latency")

    intents = coach_intents()
    verifier = Verifier(intents)
    content = get_content()
    renderer = Pyttsx3Renderer()
    voice = Voice()
    renderer.render("ready", voice)  # warm, as the speaker factory does

    state_box: dict[str, Any] = {"listener": None, "next": 0}
    heard_q: queue.Queue[tuple[str, float] | None] = queue.Queue()

    def on_position(p: float) -> None:
        k = state_box["next"]
        if k < len(marks) and p >= marks[k][0]:
            state_box["next"] = k + 1
            if state_box["listener"] is not None:
                state_box["listener"].set_state(marks[k][2])

    source = PacedSource(audio, on_position=on_position)
    listener = build_listener(
        source,
        intents,
        lambda text, conf, end: heard_q.put((text, time.monotonic())),
        spec=latency_spec(bestpath),
        initial_state=str(marks[0][2]) if marks else "idle",
    )
    state_box["listener"] = listener
    events: list[dict[str, Any]] = []

    def coach_thread() -> None:
        while True:
            item = heard_q.get()
            if item is None:
                return
            text, t_heard = item
            assert source.t0 is not None
            pos_now = t_heard - source.t0
            # The command whose speech ended last before now.
            past = [m for m in marks if m[1] <= pos_now]
            mark = past[-1] if past else marks[0]
            ev: dict[str, Any] = {
                "said": mark[3].text,
                "heard": text,
                "to_intent_s": t_heard - (source.t0 + mark[1]),
            }
            match = verifier.match(text)
            ev["intent"] = match[0] if match else None
            ev["correct"] = ev["intent"] == mark[3].intent
            if match and mark[3].intent in IDLE_REPLY and ev["correct"]:
                coach = Coach(content)
                cmds = coach.handle(Heard(time.monotonic(), text, match[0], dict(match[1])))
                says = [x.utterance for x in cmds if isinstance(x, c.Say)]
                if says:
                    renderer.render(says[0].text, voice)
                    ev["to_audio_s"] = time.monotonic() - (source.t0 + mark[1])
                    ev["reply"] = says[0].text[:60]
            events.append(ev)

    worker = threading.Thread(target=coach_thread, daemon=True)
    worker.start()
    listener.start()
    listener.join()
    heard_q.put(None)
    worker.join(30)
    if listener.error is not None:
        raise RuntimeError(f"listener failed: {listener.error}")

    to_intent = [e["to_intent_s"] for e in events if e["correct"]]
    to_audio = [e["to_audio_s"] for e in events if "to_audio_s" in e]
    return {
        "bestpath": bestpath,
        "commands": len(chosen),
        "heard_correct": len(to_intent),
        "replies": len(to_audio),
        "intent_p50": percentile(to_intent, 50),
        "intent_p95": percentile(to_intent, 95),
        "audio_p50": percentile(to_audio, 50),
        "audio_p95": percentile(to_audio, 95),
        "events": events,
        "stream_s": round(len(audio) / SAMPLE_RATE, 1),
    }
