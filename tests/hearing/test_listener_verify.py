"""Listener wiring, state grammars, verification and the self-hearing guard (no audio)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from voice.hearing.grammar import load_intents
from voice.hearing.listener import BARGE_IN, ECHO_TAIL_S, Listener, load_state_intents
from voice.hearing.verify import Verifier, echoes
from voice.ports import Transcript

SENTENCES = """
language: en
intents:
  Pause:
    data: [{sentences: ["pause", "hold on"]}]
  Stop:
    data: [{sentences: ["stop"]}]
  ReportPain:
    data: [{sentences: ["(ouch|it hurts)"]}]
  TimeLeft:
    data: [{sentences: ["how much time is left"]}]
  StartRoutine:
    data: [{sentences: ["start the routine"]}]
"""
STATES = {"idle": {"StartRoutine"}, "hold": {"TimeLeft"}}


class ScriptedRecognizer:
    """Returns a transcript for each non-empty chunk; records grammar switches."""

    def __init__(self) -> None:
        self.grammars: list[str] = []
        self.texts: dict[bytes, str] = {}
        self.playing: list[bool] = []
        self.log: list[bytes | bool] = []  # chunks fed and what it was told, in order

    def set_grammar(self, name: str) -> None:
        self.grammars.append(name)

    def set_coach_playing(self, playing: bool) -> None:
        self.playing.append(playing)
        self.log.append(playing)

    def accept(self, pcm: bytes) -> Transcript | None:
        self.log.append(pcm)
        text = self.texts.get(pcm)
        return Transcript(text, 0.9, end=0.1) if text else None

    def partial(self) -> str:
        return ""

    def flush(self) -> Transcript | None:
        return None


class ListSource:
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def chunks(self) -> Iterator[bytes]:
        yield from self._chunks

    def close(self) -> None:
        pass


@pytest.fixture
def verifier(tmp_path: Path) -> Verifier:
    path = tmp_path / "s.yaml"
    path.write_text(SENTENCES, encoding="utf-8")
    return Verifier(load_intents(path))


def make(  # type: ignore[no-untyped-def]
    verifier: Verifier,
    chunks: list[bytes] | None = None,
    initial_state: str = "idle",
    min_confidence: float = 0.0,
    echo: Judge | None = None,
):
    heard: list[tuple[str, float, float]] = []
    rejected: list[str] = []
    rec = ScriptedRecognizer()
    listener = Listener(
        ListSource(chunks or []),
        rec,
        STATES,
        lambda t, c, e: heard.append((t, c, e)),
        verifier=verifier,
        initial_state=initial_state,
        on_rejected=lambda v: rejected.append(v.reason),
        clock=lambda: 100.0,
        min_confidence=min_confidence,
        echo=echo,
    )
    return listener, rec, heard, rejected


def test_state_decides_what_is_heard(verifier: Verifier) -> None:
    listener, _, heard, rejected = make(verifier)
    listener.handle(Transcript("start the routine", 0.8))
    listener.handle(Transcript("how much time is left", 0.8))  # not an idle command
    listener.set_state("hold")
    listener.handle(Transcript("how much time is left", 0.8))
    listener.handle(Transcript("stop", 0.8))  # barge-in intents are allowed in every state
    assert [h[0] for h in heard] == ["start the routine", "how much time is left", "stop"]
    assert rejected == ["not in the allowed templates"]


def test_while_speaking_only_barge_in_and_no_echo(verifier: Verifier) -> None:
    listener, _, heard, rejected = make(verifier)
    listener.set_state("hold")
    listener.set_speaking("Hold it there. Say pause to take a break, or stop to end.")
    listener.handle(Transcript("how much time is left", 0.9))  # not barge-in
    listener.handle(Transcript("pause", 0.9))  # the coach's own word
    listener.handle(Transcript("ouch", 0.9))  # the user's
    listener.set_speaking(None)
    assert [h[0] for h in heard] == ["ouch"]
    assert rejected == ["not in the allowed templates", "echo of the coach's own speech"]


def test_thread_applies_state_before_audio(verifier: Verifier) -> None:
    listener, rec, heard, _ = make(verifier, [b"a", b"b"])
    rec.texts = {b"a": "start the routine", b"b": "stop"}
    done = threading.Event()
    listener.start()
    listener.join(5)
    done.set()
    assert rec.grammars[0] == "idle"
    assert [h[0] for h in heard] == ["start the routine", "stop"]
    assert listener.error is None
    with pytest.raises(KeyError):
        listener.set_state("nowhere")


def test_the_recognizer_knows_when_the_coach_plays_until_its_echo_has_died(
    verifier: Verifier,
) -> None:
    now = [100.0]
    listener: Listener

    def chunks() -> Iterator[bytes]:
        yield b"quiet"
        listener.set_speaking("Hold it there.")
        yield b"talking"
        listener.set_speaking(None)
        yield b"its echo"
        now[0] += ECHO_TAIL_S
        yield b"quiet again"

    rec = ScriptedRecognizer()
    source = ListSource([])
    source.chunks = chunks  # type: ignore[method-assign]
    listener = Listener(
        source, rec, STATES, lambda *a: None, verifier=verifier, clock=lambda: now[0]
    )
    listener.start()
    listener.join(5)
    # The coach's voice rings on in the room for ECHO_TAIL_S after its line.
    assert rec.log == [False, b"quiet", True, b"talking", b"its echo", False, b"quiet again"]


def test_hearing_is_known_only_once_audio_flows(verifier: Verifier) -> None:
    silent, _, _, _ = make(verifier, [])
    silent.start()
    silent.join(5)
    assert not silent.wait_hearing(0.05)  # the stream ended without a block
    listener, _, _, _ = make(verifier, [b"a"])
    listener.start()
    assert listener.wait_hearing(5)


def test_prefix_repair_and_confidence(verifier: Verifier) -> None:
    verdict = verifier.check(Transcript("how much time is left and", 1.0))
    assert verdict.accepted and verdict.intent == "TimeLeft"
    assert verdict.confidence == pytest.approx(5 / 6)
    assert not verifier.check(Transcript("", 1.0)).accepted
    strict = Verifier(verifier.intents, min_confidence=0.5)
    assert strict.check(Transcript("stop", 0.4)).reason == "low confidence"


def test_echoes() -> None:
    assert echoes("say pause", "Now, say pause to rest.")
    assert not echoes("pause", "Breathe out slowly.")
    assert not echoes("pause now", "pause")


def test_state_intents_from_file(tmp_path: Path) -> None:
    path = tmp_path / "states.yaml"
    path.write_text("idle: [StartRoutine, Help]\nhold: [TimeLeft]\n")
    assert load_state_intents(path) == {"idle": {"StartRoutine", "Help"}, "hold": {"TimeLeft"}}
    assert {"Stop", "Pause", "ReportPain"} == BARGE_IN


# -- the coach's state map ------------------------------------------------------------------

# Every state the coach publishes: "idle" and "finished" between sessions, the others are
# the segment kinds of a routine (voice/coach/plan.py).
COACH_STATES = {"idle", "intro", "instruct", "hold", "switch", "rest", "finished"}


def test_every_intent_the_coach_handles_can_be_heard_in_some_state() -> None:
    from voice.coach.handlers import handled_intents
    from voice.hearing.listener import DEFAULT_STATE_INTENTS

    assert set(DEFAULT_STATE_INTENTS) == COACH_STATES
    hearable = set(BARGE_IN).union(*DEFAULT_STATE_INTENTS.values())
    assert handled_intents() - hearable == set(), "handled but never in a grammar"
    assert hearable - handled_intents() == set(), "in a grammar but nothing handles it"


def test_state_intents_exist_in_the_coach_templates_and_questions_are_heard_when_idle() -> None:
    from content.loader import load_content
    from intents.templates import build_intents
    from voice.hearing.listener import DEFAULT_STATE_INTENTS

    intents = build_intents(load_content())
    hearable = set(BARGE_IN).union(*DEFAULT_STATE_INTENTS.values())
    assert hearable <= set(intents.intents), hearable - set(intents.intents)
    verifier = Verifier(intents)
    history = Transcript("how many times did i stretch this week", 0.9)
    for state in ("idle", "finished"):
        verdict = verifier.check(history, DEFAULT_STATE_INTENTS[state] | BARGE_IN)
        assert verdict.accepted and verdict.intent == "AskHistory", (state, verdict)
    during = verifier.check(history, DEFAULT_STATE_INTENTS["hold"] | BARGE_IN)
    assert not during.accepted


class Judge:
    """What an echo canceller would say: per text, the echo share and whether the coach
    was playing during a span (by its start); the spans asked are recorded."""

    def __init__(
        self,
        shares: dict[str, float],
        playing: set[float],
        passes: dict[str, float] | None = None,
    ) -> None:
        self.shares = shares
        self.passes = passes or {}
        self.settled_from = 0.0  # stream seconds from which the canceller has learned
        self.playing_for = playing
        self.current = ""
        self.asked: list[tuple[float, float]] = []

    def echo_share(self, start: float, end: float) -> float | None:
        self.asked.append((round(start, 3), round(end, 3)))
        return self.shares.get(self.current)

    def passed(self, start: float, end: float) -> float | None:
        return self.passes.get(self.current)

    def settled(self, start: float) -> bool:
        return start >= self.settled_from

    def playing(self, start: float, end: float) -> float:
        return 1.0 if round(start, 3) in self.playing_for else 0.0


def _run_with_judge(
    verifier: Verifier, judge: Judge, results: list[tuple[str, float, float]]
) -> tuple[list[str], list[str]]:
    heard: list[str] = []
    rejected: list[str] = []
    script = {bytes([i + 1]) * 32000: r for i, r in enumerate(results)}

    class Rec(ScriptedRecognizer):
        def accept(self, pcm: bytes) -> Transcript | None:
            if pcm not in script:
                return None
            text, start, end = script[pcm]
            judge.current = text
            return Transcript(text, 0.9, start=start, end=end)

    listener = Listener(
        ListSource([b"\0" * 32000, *script]),
        Rec(),
        STATES,
        lambda t, c, e: heard.append(t),
        verifier=verifier,
        on_rejected=lambda v: rejected.append(v.reason),
        echo=judge,
    )
    listener.start()
    listener.join(5)
    return heard, rejected


def test_a_result_made_of_the_coachs_own_voice_is_dropped_however_late(
    verifier: Verifier,
) -> None:
    """The echo canceller judges the audio of the result itself (its stream seconds), so a
    result that arrives long after the coach stopped talking is still caught."""
    judge = Judge({"stop": 0.45, "ouch": 0.03}, playing={1.25, 2.25})
    heard, rejected = _run_with_judge(verifier, judge, [("stop", 1.25, 1.75), ("ouch", 2.25, 2.75)])
    # Nobody is "speaking" as far as the listener knows: only the audio tells.
    assert heard == ["ouch"]
    assert rejected == ["echo of the coach's own speech (45% of it)"]
    assert judge.asked == [(1.25, 1.75), (2.25, 2.75)]  # one recognizer clock from the start


def test_over_the_coach_only_short_barge_in_commands_count(verifier: Verifier) -> None:
    judge = Judge({}, playing={1.0, 2.0})
    heard, rejected = _run_with_judge(
        verifier,
        judge,
        [("start the routine", 1.0, 2.0), ("stop", 2.0, 7.5), ("start the routine", 8.0, 9.0)],
    )
    # The first two came while the coach played (though no set_speaking said so): not a
    # barge-in intent, then a 5.5 s "command"; the third came when the coach was quiet.
    assert heard == ["start the routine"]
    assert rejected == [
        "not in the allowed templates",
        "too long for a command said over the coach",
    ]


def _over_the_coach(
    verifier: Verifier, judge: Judge, speaking: str, results: list[tuple[str, float, float]]
) -> tuple[list[str], list[str]]:
    """Handle (text, start, confidence) results heard while the coach says `speaking`."""
    listener, _, heard, rejected = make(
        verifier, initial_state="hold", min_confidence=0.5, echo=judge
    )
    listener.set_speaking(speaking)
    for text, start, confidence in results:
        judge.current = text
        listener.handle(Transcript(text, confidence, start=start, end=start + 1.2))
    return [h[0] for h in heard], rejected


def test_over_the_coach_any_command_counts_when_the_audio_shows_the_persons_voice(
    verifier: Verifier,
) -> None:
    """Only the echo canceller's evidence lifts the barge-in restriction: the person's voice
    passed it, the coach's residual did not (a transcript alone cannot tell the two)."""
    judge = Judge(
        {"how much time is left": 0.02, "how long is left": 0.14},
        playing={1.0, 3.0},
        passes={"how much time is left": 0.55, "how long is left": 0.2},
    )
    heard, rejected = _over_the_coach(
        verifier,
        judge,
        "ask me how much time is left whenever you like",
        [("how much time is left", 1.0, 0.8), ("how long is left", 3.0, 0.8)],
    )
    assert heard == ["how much time is left"]
    assert rejected == ["not in the allowed templates"]


def test_the_persons_voice_over_the_coach_gets_a_lower_floor(verifier: Verifier) -> None:
    """The coach's residual lowers the person's scores: with the canceller's evidence that
    the sound was the person's, the floor is 0.4, not 0.5; below it nothing counts."""
    judge = Judge({"how much time is left": 0.02}, playing={1.0, 3.0})
    judge.passes = {"how much time is left": 0.6}
    heard, rejected = _over_the_coach(
        verifier,
        judge,
        "Paused with 19 seconds left. Say resume when you are ready.",
        [("how much time is left", 1.0, 0.45), ("how much time is left", 3.0, 0.35)],
    )
    assert heard == ["how much time is left"]
    assert rejected == ["low confidence"]


def test_over_the_coach_nothing_counts_while_the_canceller_learns(verifier: Verifier) -> None:
    """Before the canceller has learned the room, the coach's own first lines pass it as
    much as a person's voice would (in the audio room: 28%, heard as "you go so slow")."""
    judge = Judge(
        {"stop": 0.02, "pause": 0.01, "how much time is left": 0.01},
        playing={1.0, 3.0, 5.0, 12.0},
        passes={"stop": 0.16, "pause": 0.4, "how much time is left": 0.28},
    )
    judge.settled_from = 10.0
    listener, _, heard, rejected = make(
        verifier, initial_state="hold", min_confidence=0.5, echo=judge
    )
    listener.set_speaking("let's start the quick routine")
    script = (("stop", 1.0), ("pause", 3.0), ("how much time is left", 5.0), ("pause", 12.0))
    for text, start in script:
        judge.current = text
        listener.handle(Transcript(text, 0.98, start=start, end=start + 1.0))
    assert [h[0] for h in heard] == ["pause"]  # the one said after it had learned
    learning = "over the coach while the echo canceller is learning"
    assert rejected == [learning, learning, "not in the allowed templates"]


def test_over_the_coach_a_low_scored_command_counts_when_it_passed_the_canceller(
    verifier: Verifier,
) -> None:
    judge = Judge({}, playing={1.0, 2.0}, passes={"pause": 0.6, "ouch": 0.01})
    listener, _, heard, rejected = make(
        verifier, initial_state="hold", min_confidence=0.5, echo=judge
    )
    listener.set_speaking("twenty seconds left")
    # The person's word passed the echo canceller; the coach's own residual did not.
    for text, start in (("pause", 1.0), ("ouch", 2.0)):
        judge.current = text
        listener.handle(Transcript(text, 0.35, start=start, end=start + 0.5))
    assert [h[0] for h in heard] == ["pause"]
    assert rejected == ["low confidence"]


def test_talk_drawn_out_over_a_short_sentence_is_not_a_command_but_ouch_still_is(
    verifier: Verifier,
) -> None:
    listener, _, heard, rejected = make(verifier, initial_state="hold")
    listener.handle(Transcript("how much time is left", 1.0, start=1.0, end=10.0))
    listener.handle(Transcript("how much time is left", 1.0, start=11.0, end=12.5))
    listener.handle(Transcript("ouch", 1.0, start=13.0, end=22.0))  # noise held it open
    listener.handle(Transcript("pause", 1.0, start=23.0, end=30.0))  # only pain is spared
    assert [h[0] for h in heard] == ["how much time is left", "ouch"]
    assert rejected == ["too long for its words", "too long for its words"]


def test_a_command_at_the_start_of_longer_talk_is_not_one_but_ouch_still_is(
    verifier: Verifier,
) -> None:
    listener, _, heard, rejected = make(verifier, initial_state="hold")
    listener.handle(Transcript("pause", 1.0, start=1.0, end=3.0, trailing_s=1.2))
    listener.handle(Transcript("pause", 1.0, start=4.0, end=4.8, trailing_s=0.3))
    listener.handle(Transcript("ouch", 1.0, start=5.0, end=7.0, trailing_s=1.2))
    assert [h[0] for h in heard] == ["pause", "ouch"]
    assert rejected == ["1.2 s of talk after it"]


def test_barge_in_commands_have_a_lower_confidence_floor(verifier: Verifier) -> None:
    listener, _, heard, rejected = make(verifier, initial_state="hold", min_confidence=0.5)
    listener.handle(Transcript("pause", 0.3))  # a one-word command scores low
    listener.handle(Transcript("how much time is left", 0.3))
    listener.handle(Transcript("stop", 0.1))
    assert [h[0] for h in heard] == ["pause"]
    assert rejected == ["low confidence", "low confidence"]


def test_over_the_coach_the_full_floor_applies(verifier: Verifier) -> None:
    listener, _, heard, _ = make(verifier, initial_state="hold", min_confidence=0.5)
    listener.set_speaking("Twenty seconds left.")
    listener.handle(Transcript("ouch", 0.3))
    listener.handle(Transcript("ouch", 0.8))
    assert [h[0] for h in heard] == ["ouch"]
