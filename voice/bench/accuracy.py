"""Command acceptance rate on our own commands, synthetic held-out voices, per SNR.

Each clip goes through the live path of the product's recognizer, as the microphone would
feed it: 30 ms chunks into `accept()` (front end, endpointer, an utterance decoded when the
endpointer ends it), then `flush()`, with the grammar of a coach state that accepts the
command (barge-in commands: hold); every result is verified against that state's intents and
the listener's confidence floor, as `Listener.handle` does. A clip counts as correct only when
something was accepted and every accepted result has the intent and every labelled slot right
(the Picovoice rule, voice.hearing.evaluate.is_correct). Engine settings: product defaults.

Same-run ratios on the same clips: one global grammar of all intents (same live path), and
PocketSphinx's open-vocabulary language model on the clip's speech span, hassil on the text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from voice.bench.common import KITCHEN, Bench, median, spread
from voice.bench.corpus import HELDOUT_VOICES, Command, SynthVoice, pad, pick_commands, synth
from voice.bench.pool import TimedOut, TimedPool
from voice.hearing.audio_files import SAMPLE_RATE, Pcm, read_audio

_LOG = logging.getLogger("stretch-coach.bench")

SEED = 1234
STATE_ORDER = ("hold", "idle", "instruct", "intro", "rest", "switch", "finished")


def bench_spec() -> Any:
    """The engine exactly as `run` builds it by default (PocketSphinx, product settings)."""
    from voice.hearing.engines import EngineSpec

    return EngineSpec(engine="pocketsphinx")


def state_for(intent: str) -> str | None:
    from voice.hearing.listener import BARGE_IN, DEFAULT_STATE_INTENTS

    if intent in BARGE_IN:
        return "hold"
    for state in STATE_ORDER:
        if intent in DEFAULT_STATE_INTENTS.get(state, ()):
            return state
    return None


# When a run uses fewer commands than intents, the ones a session depends on come first.
PRIORITY = (
    "StartRoutine",
    "Stop",
    "Pause",
    "ReportPain",
    "Resume",
    "TimeLeft",
    "NextStretch",
    "RepeatStep",
    "Help",
    "StartStretch",
    "AskFaq",
    "SetCountStyle",
    "SetSpeechRate",
    "PreviousStretch",
    "StartOver",
    "Yes",
    "No",
    "AskHistory",
)


def pick_priority(n: int) -> list[Command]:
    """One phrasing per intent a coach state listens for (then more), most important first."""
    heard = [c for c in pick_commands(10_000) if state_for(c.intent) is not None]
    rank = {name: i for i, name in enumerate(PRIORITY)}
    first: dict[str, Command] = {}
    rest: list[Command] = []
    for cmd in heard:
        if cmd.intent in first:
            rest.append(cmd)
        else:
            first[cmd.intent] = cmd
    ordered = sorted(first.values(), key=lambda c: rank.get(c.intent, len(rank)))
    return (ordered + rest)[:n]


@dataclass(frozen=True)
class Condition:
    noise: str | None = None  # "kitchen" | "babble"
    snr: float | None = None
    reverb: bool = False

    @property
    def label(self) -> str:
        parts = ["reverb" if self.reverb else ""]
        if self.noise:
            parts.append(f"{self.noise} {self.snr:g} dB")
        text = ", ".join(p for p in parts if p)
        return text or "clean"


@dataclass(frozen=True)
class Job:
    wav: str  # cached clean (or reverberant) clip, padded
    name: str
    command: Command
    condition: Condition
    mode: str  # "state" | "global" | "open"
    repeat: int
    audio_s: float = 0.0


# --- worker ------------------------------------------------------------------------------

_W: dict[str, Any] = {}


def _init(babble_path: str) -> None:
    from voice.bench.common import coach_intents
    from voice.hearing.engines import create
    from voice.hearing.grammar import compile_grammar, compile_state_grammars
    from voice.hearing.listener import BARGE_IN, DEFAULT_STATE_INTENTS
    from voice.hearing.verify import Verifier

    intents = coach_intents()
    grammars = compile_state_grammars(intents, DEFAULT_STATE_INTENTS, always=BARGE_IN)
    grammars["global"] = compile_grammar(intents, None, name="global")
    _W["rec"] = create(bench_spec(), grammars)
    _W["verifier"] = Verifier(intents)
    _W["noise"] = {"kitchen": read_audio(KITCHEN), "babble": read_audio(babble_path)}


def _open_decoder() -> Any:
    if "open" not in _W:
        import pocketsphinx

        _W["open"] = pocketsphinx.Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
    return _W["open"]


def _decode_open(pcm: Pcm) -> str:
    """Open vocabulary: the same front end and speech gate, PocketSphinx's own LM."""
    from voice.hearing.endpoint import EndpointSettings, speech_span
    from voice.hearing.frontend import Frontend

    spec = bench_spec()
    cleaned = np.frombuffer(
        Frontend(spec.frontend).process(pcm.astype("<i2").tobytes()), dtype="<i2"
    )
    span = speech_span(cleaned.astype(np.int16), spec.endpoint or EndpointSettings())
    if span is None:
        return ""
    dec = _open_decoder()
    dec.start_utt()
    dec.process_raw(cleaned[span[0] : span[1]].tobytes(), False, True)
    dec.end_utt()
    hyp = dec.hyp()
    return hyp.hypstr.strip() if hyp is not None else ""


def _listen(pcm: Pcm, grammar: str, allowed: frozenset[str] | None) -> list[Any]:
    """The verdicts of every result the live path produces for one clip."""
    from voice.hearing.audio_files import chunked
    from voice.hearing.listener import DEFAULT_MIN_CONFIDENCE
    from voice.hearing.second_look import with_second_look

    def check(transcript: Any) -> Any:
        v = _W["verifier"].check(transcript, allowed)
        if v.accepted and v.confidence < DEFAULT_MIN_CONFIDENCE:
            v = replace(v, accepted=False, reason="low confidence")
        return v

    rec = _W["rec"]
    rec.reset()
    rec.set_grammar(grammar)
    verdicts = []
    # Checked as they come, as the listener does: only the newest has a second look.
    for chunk in [*chunked(pcm, 30), None]:
        transcript = rec.accept(chunk) if chunk is not None else rec.flush()
        if transcript is not None:
            verdicts.append(with_second_look(transcript, check, rec)[1])
    return verdicts


def _run(job: Job) -> dict[str, Any]:
    from voice.bench.degrade import noisy
    from voice.hearing.evaluate import Item, is_correct
    from voice.hearing.listener import BARGE_IN, DEFAULT_STATE_INTENTS

    pcm = read_audio(job.wav)
    c = job.condition
    if c.noise is not None and c.snr is not None:
        pcm = noisy(pcm, _W["noise"][c.noise], c.snr, SEED + job.repeat, job.name)
    cmd = job.command
    item = Item(Path(job.name), cmd.intent, cmd.slot_dict)
    t0 = time.process_time()
    if job.mode == "open":
        text = _decode_open(pcm)
        match = _W["verifier"].match(text) if text else None
        cpu = time.process_time() - t0
        ok = match is not None and is_correct(item, match[0], dict(match[1]))
        ok_no_floor = ok
        heard, intent = text, (match[0] if match else None)
    else:
        state = state_for(cmd.intent) if job.mode == "state" else "global"
        assert state is not None
        allowed = None
        if job.mode == "state":
            allowed = frozenset(DEFAULT_STATE_INTENTS[state]) | BARGE_IN
        verdicts = _listen(pcm, state, allowed)
        cpu = time.process_time() - t0
        accepted = [v for v in verdicts if v.accepted]
        ok = bool(accepted) and all(is_correct(item, v.intent, v.slots) for v in accepted)
        # The same clip judged without the listener's confidence floor (same decode).
        loose = [v for v in verdicts if v.accepted or v.reason == "low confidence"]
        ok_no_floor = bool(loose) and all(is_correct(item, v.intent, v.slots) for v in loose)
        heard = " | ".join(
            v.text if v.accepted else f"{v.text} ({v.reason}, {v.confidence:.2f})" for v in verdicts
        )
        intent = ", ".join(str(v.intent) for v in accepted) or None
    return {
        "name": job.name,
        "ok": ok,
        "ok_no_floor": ok_no_floor,
        "cpu": cpu,
        "audio": len(pcm) / SAMPLE_RATE,
        "text": heard,
        "said": cmd.text,
        "intent": intent,
    }


# --- driver ------------------------------------------------------------------------------


def _prepare(
    bench: Bench, voices: Sequence[SynthVoice], commands: list[Command], per_command: int
) -> list[tuple[str, Command, str, str]]:
    """Clips (name, command, dry wav, reverberant wav): command i spoken by `per_command`
    voices, starting with voice i (mod the number of voices), so every voice gets its share."""
    from voice.bench.degrade import reverb
    from voice.hearing.audio_files import write_wav

    clips = []
    for i, cmd in enumerate(commands):
        for k in range(min(per_command, len(voices))):
            voice = voices[(i + k) % len(voices)]
            name = f"{voice.id}/{i:03d}"
            dry = bench.path("clips", voice.id, f"{i:03d}-{_slug(cmd.text)}.wav")
            if not dry.exists():
                write_wav(dry, pad(synth(cmd.text, voice, bench.cache)))
            wet = bench.path("clips", voice.id, f"{i:03d}-{_slug(cmd.text)}-reverb.wav")
            if not wet.exists():
                write_wav(wet, reverb(read_audio(dry), bench.cache))
            clips.append((name, cmd, str(dry), str(wet)))
    return clips


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)[:40]


def conditions(bench: Bench) -> list[Condition]:
    s = bench.sizes
    out = [Condition()]
    out += [Condition("kitchen", snr) for snr in s.snrs]
    out += [Condition(reverb=True)]
    out += [Condition("kitchen", snr, True) for snr in s.reverb_snrs]
    out += [Condition("babble", snr) for snr in s.babble_snrs]
    return out


def _limit(job: Job) -> float:
    """CPU seconds a clip may use before it counts as stalled.

    Clips that finish take 0.05-1.2 s of CPU per second of audio; a stalled lattice search
    (n-best, bestpath) runs for minutes.
    """
    return 3.0 + 2.0 * job.audio_s


def _wav_seconds(path: str) -> float:
    return max(0.0, (Path(path).stat().st_size - 44) / (2.0 * SAMPLE_RATE))


def run(bench: Bench) -> dict[str, Any]:
    from voice.bench.babble import babble

    s = bench.sizes
    started = time.monotonic()
    voices = HELDOUT_VOICES[: s.heldout_voices]
    commands = pick_priority(s.commands)
    unheard = sorted({c.intent for c in pick_commands(10_000) if state_for(c.intent) is None})
    clips = _prepare(bench, voices, commands, s.voices_per_command)
    seconds = 20.0 if bench.quick else 60.0
    babble(bench.cache, seconds)
    babble_path = str(bench.path(f"babble-{int(seconds)}s.wav"))

    jobs: list[Job] = []
    conds = conditions(bench)
    for cond in conds:
        reps = 1 if cond.noise is None else s.repeats
        for rep in range(reps):
            for name, cmd, dry, wet in clips:
                wav = wet if cond.reverb else dry
                jobs.append(Job(wav, name, cmd, cond, "state", rep, _wav_seconds(wav)))
    compare_conds = [Condition()] + [Condition("kitchen", snr) for snr in s.compare_snrs]
    compare_clips = spread(clips, s.compare_commands)
    for cond in compare_conds:
        reps = 1 if cond.noise is None else s.repeats
        for rep in range(reps):
            for name, cmd, dry, _wet in compare_clips:
                for mode in ("global", "open"):
                    jobs.append(Job(dry, name, cmd, cond, mode, rep, _wav_seconds(dry)))
    _LOG.info("accuracy: %d clips, %d decodes, %d worker(s)", len(clips), len(jobs), bench.jobs)
    pool: TimedPool[Job] = TimedPool(
        _run, _limit, workers=bench.jobs, init=_init, init_args=(babble_path,), label="commands"
    )
    results = [_as_result(job, res) for job, res in zip(jobs, pool.map(jobs), strict=True)]

    table: dict[tuple[str, str], dict[int, list[dict[str, Any]]]] = {}
    for job, res in zip(jobs, results, strict=True):
        table.setdefault((job.mode, job.condition.label), {}).setdefault(job.repeat, []).append(res)
    rows = [_row(table, "state", cond.label) for cond in conds]
    compare = []
    names = {n for n, *_ in compare_clips}
    for cond in compare_conds:
        compare.append(
            {
                "condition": cond.label,
                "clips": len(compare_clips),
                "state": _row(table, "state", cond.label, names),
                "global": _row(table, "global", cond.label),
                "open": _row(table, "open", cond.label),
            }
        )
    failures = [
        {"condition": label, **r}
        for (mode, label), reps in table.items()
        if mode == "state"
        for r in reps.get(0, [])
        if not r["ok"]
    ]
    return {
        "engine_settings": _describe_spec(),
        "voices": [v.id for v in voices],
        "voices_per_command": min(s.voices_per_command, len(voices)),
        "per_voice": _per_voice(table, [v.id for v in voices], PER_VOICE_LABELS),
        "commands": len(commands),
        "clips": len(clips),
        "intents": list(dict.fromkeys(c.intent for c in commands)),
        "intents_in_no_state": unheard,
        "repeats": s.repeats,
        "rows": rows,
        "compare": compare,
        "decodes": len(jobs),
        "timeouts": pool.timeouts,
        "failures_sample": failures[:40],
        "wall_s": round(time.monotonic() - started, 1),
    }


PER_VOICE_LABELS = ("clean", "reverb", "kitchen 15 dB", "kitchen 6 dB")


def _per_voice(
    table: dict[tuple[str, str], dict[int, list[dict[str, Any]]]],
    voices: list[str],
    labels: Sequence[str],
) -> list[dict[str, Any]]:
    """Acceptance per held-out voice (median over the noise draws) for a few conditions."""
    out = []
    for voice in voices:
        row: dict[str, Any] = {"voice": voice}
        for label in labels:
            reps = table.get(("state", label), {})
            rates = []
            n = 0
            for rs in reps.values():
                mine = [r for r in rs if r["name"].startswith(voice + "/")]
                if mine:
                    n = len(mine)
                    rates.append(sum(r["ok"] for r in mine) / len(mine))
            row[label] = median(rates) if rates else float("nan")
            row["clips"] = max(row.get("clips", 0), n)
        out.append(row)
    return out


def _as_result(job: Job, res: Any) -> dict[str, Any]:
    """A worker's result, or a miss for a decode that stalled or failed."""
    if isinstance(res, dict):
        return res
    stalled = isinstance(res, TimedOut)
    return {
        "name": job.name,
        "ok": False,
        "cpu": 0.0,
        "audio": 0.0,
        "text": f"(no result in {res.limit_s:.0f} s of CPU)" if stalled else f"(failed: {res})",
        "said": job.command.text,
        "intent": None,
        "timeout": stalled,
        "error": not stalled,
    }


def _row(
    table: dict[tuple[str, str], dict[int, list[dict[str, Any]]]],
    mode: str,
    label: str,
    names: set[str] | None = None,
) -> dict[str, Any]:
    """Median rate over the noise draws (only the clips in `names` when given)."""
    reps = {
        k: [r for r in rs if names is None or r["name"] in names]
        for k, rs in table.get((mode, label), {}).items()
    }
    rates = [sum(r["ok"] for r in rs) / len(rs) for rs in reps.values() if rs]
    loose = [sum(r.get("ok_no_floor", False) for r in rs) / len(rs) for rs in reps.values() if rs]
    done = [r for rs in reps.values() for r in rs if r["audio"] > 0]
    cpu = sum(r["cpu"] for r in done)
    audio = sum(r["audio"] for r in done)
    first = next(iter(reps.values()), [])
    return {
        "condition": label,
        "clips": len(first),
        "runs": len(rates),
        "rate": median(rates),
        "rates": [round(r, 4) for r in rates],
        "rate_no_floor": median(loose),
        "cpu_per_audio_s": cpu / audio if audio else float("nan"),
        "timeouts": sum(1 for rs in reps.values() for r in rs if r.get("timeout")),
        "errors": sum(1 for rs in reps.values() for r in rs if r.get("error")),
    }


def _describe_spec() -> dict[str, Any]:
    spec = bench_spec()
    d = spec.decoder
    return {
        "engine": spec.engine,
        "bestpath": d.bestpath,
        "phone_loop_confidence": d.phone_loop_confidence,
        "live_nbest": getattr(d, "live_nbest", None),
        "beam": d.beam,
        "wbeam": d.wbeam,
        "noise_suppression": spec.frontend.noise_suppression,
        "rnnoise": spec.frontend.rnnoise,
        "vad_mode": spec.endpoint.vad_mode,
    }
