"""Continuous listening for the coach runtime: audio -> recognizer -> checks -> on_heard.

Runs in its own thread. Which intents may be heard depends on the coach state, given as
data (state name -> intent names). While the coach is speaking only the barge-in set is
accepted, and a result that repeats a run of what the coach is saying is dropped: that is
the coach hearing itself through the room.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from voice.hearing.second_look import with_second_look
from voice.hearing.verify import Verdict, Verifier, drawn_out, echoes
from voice.ports import AudioSource, HearsOverTheCoach, Recognizer, Transcript

_LOG = logging.getLogger(__name__)

OnHeard = Callable[[str, float, float], None]
OnRejected = Callable[[Verdict], None]

# Intents that may interrupt the coach while it speaks.
BARGE_IN: frozenset[str] = frozenset({"Stop", "Pause", "ReportPain"})
# Intents heard however much talk surrounds them: "ouch, that hurts, I think I pulled
# something" must still stop the stretch, and missing it costs far more than a false one.
SAFETY: frozenset[str] = frozenset({"ReportPain"})

# Coach state -> intents worth hearing then. Barge-in intents are added to every state.
# Questions (AskFaq, AskHistory) are heard only between sessions: their grammars are large,
# and in a session every extra sentence is one more way for room noise to fire a command.
# The coach still answers them mid-session when typed (tests/hearing: every handled intent
# must be in some state here).
DEFAULT_STATE_INTENTS: dict[str, frozenset[str]] = {
    "idle": frozenset(
        {"StartRoutine", "StartStretch", "AskFaq", "AskHistory", "Help", "Yes", "No"}
    ),
    "intro": frozenset(
        {"Resume", "RepeatStep", "Help", "Yes", "No", "NextStretch", "SetSpeechRate"}
    ),
    "instruct": frozenset(
        {
            "Resume",
            "RepeatStep",
            "Help",
            "NextStretch",
            "PreviousStretch",
            "TimeLeft",
            "SetSpeechRate",
            "SetCountStyle",
            "Yes",
            "No",
        }
    ),
    "hold": frozenset(
        {
            "Resume",
            "TimeLeft",
            "RepeatStep",
            "Help",
            "NextStretch",
            "SetCountStyle",
            "SetSpeechRate",
        }
    ),
    "switch": frozenset({"Resume", "RepeatStep", "Help", "TimeLeft", "NextStretch"}),
    "rest": frozenset({"Resume", "TimeLeft", "NextStretch", "Help", "RepeatStep", "StartOver"}),
    "finished": frozenset(
        {"StartRoutine", "StartOver", "AskFaq", "AskHistory", "Help", "Yes", "No"}
    ),
}

# PocketSphinx phone-loop confidence, re-checked on 60 barista-dev recordings streamed through
# the live path with the live defaults: their own grammar (commands) vs the coach's hold
# grammar (talk that is no command). Accepted at floor 0 / 0.3 / 0.5 / 0.7:
#   commands clean 97 / 97 / 97 / 95 %, 12 dB kitchen 80 / 77 / 70 / 68 %
#   other talk clean 98 / 80 / 47 / 42 %, 12 dB kitchen 100 / 70 / 52 / 48 %
# Clean commands lose nothing up to 0.6 (in noise 10 points by 0.5), while 40% of the talk
# still scores 0.7 or more. No floor separates the two: this one halves false activations,
# and the state grammars, the templates and the echo checks must do the rest.
DEFAULT_MIN_CONFIDENCE = 0.5
# One-word commands score low on that scale whatever is said (flite voices saying "pause"
# and "stop": 0.23-0.36, "ouch that hurts" 0.40-0.44), and missing a "stop" or an "ouch"
# costs far more than a stray pause: barge-in commands get a lower floor while the coach is
# quiet (over its voice a low-scoring "ow" was the coach itself, in the audio room). Not
# lower: other speech forced onto "hold on" scored 0.21 (tests/hearing/test_pocketsphinx).
BARGE_IN_MIN_CONFIDENCE = 0.3

# After the coach stops talking its voice still rings in the room and in the audio queue.
ECHO_TAIL_S = 0.4

# A result whose audio is more than this share the coach's own voice (left over after echo
# cancellation, see voice.hearing.echo.SpeexCanceller.echo_share) is the coach hearing itself.
# Measured: the person's words 0.00-0.08, the coach's residual alone 0.3-0.5.
MAX_ECHO_SHARE = 0.2

# What the echo canceller's measures say about a result heard over the coach, measured in
# the audio room (tests/e2e): the coach's residual alone kept 0.0-5% of the microphone's
# energy (16-28% on its first lines, before the filter had learned the room: nothing said
# over the coach counts then), with an echo share of 1-14%; the person's "pause", "resume",
# "ouch" kept 30-57%, echo share 1-7%.
# A barge-in command gets the lower confidence floor over the coach when this much passed:
MIN_PASSED_OVER_COACH = 0.1
# ... and any command of the state counts, as if the coach were quiet, when this much passed
# and the result is this little like the coach's voice:
PERSON_PASSED = 0.25
PERSON_MAX_SHARE = 0.1
# ... with this confidence floor: what is left of the coach's voice in the audio scores
# against the words, so the person's commands score lower over it ("resume" 0.46 and 0.53 in
# two audio-room runs, where the full floor lost one of them).
PERSON_OVER_COACH_MIN_CONFIDENCE = 0.4

# Speech-loud audio after the last word of a result (Transcript.trailing_s): a grammar given
# a stretch of talk puts a command at its start and files the rest under silence. On the
# false-activation bench (kitchen 15 dB, hold and idle) 29 of 33 accepted results had
# 0.66-6.5 s of it. Commands said on their own almost never go over 0.5 s: of 168 flite
# commands heard right, clean to 6 dB, one had 0.55 s; of 183 barista orders heard right
# through the live path, clean and 12 dB, none; at 6 dB, 6 of 68, where the noise itself is
# as loud as words.
MAX_TRAILING_S = 0.5

# Over the coach's voice a command is short ("pause", "ouch, that hurts"); a long stretch of
# "speech" there is the coach's own lines leaking through, whatever words it decodes to.
MAX_BARGE_IN_S = 4.0
# The coach counts as talking during a result when it played for this share of it.
PLAYING_SHARE = 0.2


@dataclass(frozen=True)
class EchoEvidence:
    """What the echo canceller says about a result's audio (None: nothing to say)."""

    share: float | None = None  # how much of it is like the coach's voice (coherence)
    passed: float | None = None  # share of the microphone's energy the canceller let through
    settled: bool = True  # the canceller had learned the room: its measures mean something

    @property
    def passed_canceller(self) -> bool:
        return self.passed is not None and self.passed >= MIN_PASSED_OVER_COACH

    @property
    def person(self) -> bool:
        """The audio shows the person's own voice over the coach, not what is left of it."""
        # Not before the canceller has learned the room: the coach's own first line then
        # kept 28% of its energy (heard as "you go so slow", echo share 1%).
        return (
            self.settled
            and self.passed is not None
            and self.passed >= PERSON_PASSED
            and self.share is not None
            and self.share <= PERSON_MAX_SHARE
        )

    def __str__(self) -> str:
        share = "-" if self.share is None else f"{self.share:.0%}"
        passed = "-" if self.passed is None else f"{self.passed:.1%}"
        learning = "" if self.settled else " (canceller still learning)"
        return f"echo share {share}, passed {passed}{learning}"


class EchoJudge(Protocol):
    """What the echo canceller knows about a span of the audio (seconds of the stream)."""

    def echo_share(self, start: float, end: float) -> float | None: ...

    def passed(self, start: float, end: float) -> float | None: ...

    def settled(self, start: float) -> bool: ...

    def playing(self, start: float, end: float) -> float: ...


BYTES_PER_S = 32000.0  # 16 kHz, 16-bit mono


@dataclass(frozen=True)
class RestartPolicy:
    """How a failing recognizer is retried: exponential backoff, forgiven after a healthy spell.

    A decoder bug that fires on one odd stretch of audio must not end listening for the
    session, but one that fires on every chunk must not spin the CPU either.
    """

    first_delay_s: float = 0.5
    max_delay_s: float = 10.0
    healthy_s: float = 60.0  # running this long since the last restart resets the delay


def load_state_intents(path: str | Path) -> dict[str, frozenset[str]]:
    """Read a {state: [intent, ...]} mapping from YAML or JSON."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of state -> list of intents")
    return {str(k): frozenset(str(i) for i in (v or [])) for k, v in data.items()}


@dataclass
class _Speaking:
    text: str | None = None
    ended_at: float = float("-inf")
    last_text: str = ""


class Listener:
    """Feeds an AudioSource to a Recognizer on a thread and reports accepted commands.

    `recognizer` must know one grammar per state name (see `build_listener`).
    `on_heard(text, confidence, end_time)` gets the verified text; `end_time` is on the
    `clock` (time.monotonic by default): when the speech ended, not when decoding finished.
    Restart delays are measured on the same clock.

    A recognizer that raises is logged and restarted with backoff (`restart`): rebuilt by
    `rebuild` when given, else reset (if it can be) and reused; the current state's grammar
    is set again. Audio that arrives while waiting is read and dropped, so the source never
    backs up and stale speech is not acted on late. Only a failing audio source ends the
    thread; its exception is kept in `error`.
    """

    def __init__(
        self,
        source: AudioSource,
        recognizer: Recognizer,
        states: Mapping[str, Collection[str]],
        on_heard: OnHeard,
        *,
        verifier: Verifier,
        barge_in: Collection[str] = BARGE_IN,
        safety: Collection[str] = SAFETY,
        initial_state: str = "idle",
        on_rejected: OnRejected | None = None,
        clock: Callable[[], float] = time.monotonic,
        min_confidence: float = 0.0,
        rebuild: Callable[[], Recognizer] | None = None,
        restart: RestartPolicy | None = None,
        echo: EchoJudge | None = None,
        max_echo_share: float = MAX_ECHO_SHARE,
    ) -> None:
        if initial_state not in states:
            raise KeyError(f"unknown state {initial_state!r}")
        self._source = source
        self._recognizer = recognizer
        self._states = {k: frozenset(v) for k, v in states.items()}
        self._barge_in = frozenset(barge_in)
        self._safety = frozenset(safety)
        self._on_heard = on_heard
        self._on_rejected = on_rejected
        self._verifier = verifier
        self._clock = clock
        self._min_confidence = min_confidence
        self._lock = threading.Lock()
        self._state = initial_state
        self._pending_state: str | None = initial_state
        self._speaking = _Speaking()
        # What the recognizer was last told of the coach playing (None: nothing yet).
        self._told_playing: bool | None = None
        self._stop = threading.Event()
        self._hearing = threading.Event()  # set when the first audio has been read
        self._thread: threading.Thread | None = None
        # Seconds of audio the current recognizer has been fed since its clock started:
        # its transcripts' times are on that clock.
        self._fed_s = 0.0
        # Seconds read from the source, and where the current recognizer's clock started on
        # that count: the echo canceller indexes its audio by the source's seconds.
        self._read_s = 0.0
        self._origin_s = 0.0
        self._echo = echo
        self._max_echo_share = max_echo_share
        self._rebuild = rebuild
        self._policy = restart or RestartPolicy()
        self._delay = self._policy.first_delay_s
        self._retry_at: float | None = None
        self._healthy_since = clock()
        self.restarts = 0
        self.recognizer_errors = 0
        self.error: BaseException | None = None

    # --- control (any thread) -------------------------------------------------------------

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    def set_state(self, name: str) -> None:
        """Switch the grammar; applied by the listening thread before the next audio chunk."""
        if name not in self._states:
            raise KeyError(f"unknown state {name!r}")
        with self._lock:
            self._state = name
            self._pending_state = name

    def set_speaking(self, text: str | None) -> None:
        """Tell the listener what the coach is saying now (None when it stops)."""
        with self._lock:
            if text is None:
                if self._speaking.text is not None:
                    self._speaking.ended_at = self._clock()
                self._speaking.text = None
            else:
                self._speaking.text = text
                self._speaking.last_text = text

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("listener already started")
        self._thread = threading.Thread(target=self._run, name="listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._source.close()
        if self._thread is not None:
            self._thread.join(timeout)
        close = getattr(self._recognizer, "close", None)
        if callable(close):  # an isolated recognizer is a process to end
            try:
                close()
            except Exception:  # noqa: BLE001 - stopping must not fail over a broken decoder
                _LOG.debug("closing the recognizer", exc_info=True)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait_hearing(self, timeout: float) -> bool:
        """Wait until audio flows from the source; False if none came within `timeout`.

        A started stream can take a while to deliver its first block (an audio server
        waking a suspended source): words said before it are never heard.
        """
        return self._hearing.wait(timeout)

    # --- the listening thread ------------------------------------------------------------

    @property
    def recognizer(self) -> Recognizer:
        return self._recognizer

    def _run(self) -> None:
        try:
            chunks = iter(self._source.chunks())
        except BaseException as err:  # noqa: BLE001 - reported to the runtime, not swallowed
            self._source_failed(err)
            return
        while not self._stop.is_set():
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except BaseException as err:  # noqa: BLE001 - as above
                self._source_failed(err)
                return
            self._feed(chunk)
        if not self._stop.is_set() and self._retry_at is None:
            self._guarded(lambda: self._recognizer.flush())

    def _source_failed(self, err: BaseException) -> None:
        self.error = err
        _LOG.error("audio source failed; listener stopped", exc_info=err)

    def _feed(self, chunk: bytes) -> None:
        seconds = len(chunk) / BYTES_PER_S
        self._read_s += seconds
        self._hearing.set()
        retry_at = self._retry_at
        if retry_at is not None and (self._clock() < retry_at or not self._restart_recognizer()):
            return
        if self._fed_s == 0.0:
            self._origin_s = self._read_s - seconds  # a new recognizer's clock starts here
        self._fed_s += seconds
        self._guarded(lambda: self._recognizer.accept(chunk))

    def _guarded(self, call: Callable[[], Transcript | None]) -> None:
        """Run one recognizer call; a failure schedules a restart instead of ending the loop."""
        try:
            self._apply_state()
            result = call()
        except Exception as err:  # noqa: BLE001 - any decoder failure is survivable here
            self._recognizer_failed(err)
            return
        if result is None:
            return
        try:
            self.handle(result, second_look=True)
        except Exception:  # noqa: BLE001 - one bad result must not stop hearing
            _LOG.exception("could not handle %r", result.text)

    def _recognizer_failed(self, err: Exception) -> None:
        now = self._clock()
        if now - self._healthy_since >= self._policy.healthy_s:
            self._delay = self._policy.first_delay_s
        delay = self._delay
        self._delay = min(self._policy.max_delay_s, self._delay * 2)
        self._retry_at = now + delay
        self.recognizer_errors += 1
        _LOG.error("recognizer failed; restarting in %.1f s", delay, exc_info=err)

    def _restart_recognizer(self) -> bool:
        try:
            if self._rebuild is not None:
                old, self._recognizer = self._recognizer, self._rebuild()
                self._fed_s = 0.0
                close = getattr(old, "close", None)
                if callable(close):
                    try:
                        close()
                    except Exception:  # noqa: BLE001 - the old one is broken anyway
                        _LOG.debug("closing the failed recognizer", exc_info=True)
            elif callable(reset := getattr(self._recognizer, "reset", None)):
                reset()
                self._fed_s = 0.0
        except Exception as err:  # noqa: BLE001 - retried with a longer delay
            self._recognizer_failed(err)
            return False
        with self._lock:
            self._pending_state = self._state  # the new search starts on the current grammar
        self._told_playing = None
        self._retry_at = None
        self._healthy_since = self._clock()
        self.restarts += 1
        _LOG.warning("recognizer restarted (%d so far)", self.restarts)
        return True

    def _apply_state(self) -> None:
        with self._lock:
            pending, self._pending_state = self._pending_state, None
            speaking = self._speaking
            playing = speaking.text is not None or self._clock() < speaking.ended_at + ECHO_TAIL_S
        if pending is not None:
            self._recognizer.set_grammar(pending)
        if playing != self._told_playing:
            if isinstance(self._recognizer, HearsOverTheCoach):
                self._recognizer.set_coach_playing(playing)
            self._told_playing = playing

    def handle(self, transcript: Transcript, *, second_look: bool = False) -> Verdict:
        """Check one final result and report it; public so runtimes and tests can inject text.

        With `second_look` (results of this listener's recognizer), a result rejected as
        misheard while the coach is quiet is decoded again unprocessed
        (voice.hearing.second_look). Over the coach the cleaned audio is all there is: the
        unprocessed one has more of the coach's voice in it.
        """
        now = self._clock()
        # Map stream time to the clock: the result ended (fed_now - end) seconds ago.
        end_time = now - max(0.0, self._fed_s - transcript.end) if transcript.end else now
        state, guard_text = self._guard(transcript, end_time)

        def check(heard: Transcript) -> Verdict:
            return self._decide(heard, state, guard_text)

        if second_look and guard_text is None:
            transcript, verdict = with_second_look(transcript, check, self._recognizer)
        else:
            verdict = check(transcript)
        if verdict.accepted:
            _LOG.debug("heard %r (%.2f) in %s", verdict.text, verdict.confidence, state)
            self._on_heard(verdict.text, verdict.confidence, end_time)
        else:
            _LOG.debug("rejected %r: %s", verdict.text, verdict.reason)
            if self._on_rejected is not None:
                self._on_rejected(verdict)
        return verdict

    def _decide(self, transcript: Transcript, state: str, guard_text: str | None) -> Verdict:
        evidence = self._echo_of(transcript) if transcript.text else EchoEvidence()
        # Over the coach only barge-in commands count, unless the audio shows the person's
        # own voice: then the coach is no more in the way than when it is quiet.
        guarded = guard_text is not None and not evidence.person
        allowed = self._states[state] | self._barge_in
        if guarded:
            allowed = allowed & self._barge_in
        verdict = self._verifier.check(transcript, allowed)
        return self._judge(verdict, transcript, guard_text, guarded, evidence)

    def _guard(self, transcript: Transcript, end_time: float) -> tuple[str, str | None]:
        """The state, and what the coach was saying over this result (None: it was quiet)."""
        over_coach = self._over_coach(transcript)
        with self._lock:
            speaking = self._speaking.text
            recent = (
                self._speaking.last_text
                if end_time < self._speaking.ended_at + ECHO_TAIL_S or over_coach
                else None
            )
            return self._state, speaking if speaking is not None else recent

    def _judge(
        self,
        verdict: Verdict,
        transcript: Transcript,
        guard_text: str | None,
        guarded: bool,
        evidence: EchoEvidence,
    ) -> Verdict:
        """The confidence floor and the self-hearing checks, on a verified result."""
        if verdict.accepted and guarded and evidence.passed is not None and not evidence.settled:
            # The canceller is still learning the room: what it lets through may be the
            # coach's own first lines (heard as "let's stop routine" at confidence 0.98), and
            # they can pass as much of it as the person's voice does.
            return _rejected(verdict, "over the coach while the echo canceller is learning")
        floor = self._min_confidence
        if verdict.intent in self._barge_in and (guard_text is None or evidence.passed_canceller):
            # Over the coach's voice a low score is usually its voice, unless the canceller
            # let most of the sound through: then it was the person's.
            floor = min(floor, BARGE_IN_MIN_CONFIDENCE)
        elif guard_text is not None and evidence.person:
            floor = min(floor, PERSON_OVER_COACH_MIN_CONFIDENCE)
        if verdict.accepted and verdict.confidence < floor:
            return _rejected(verdict, "low confidence")
        if (
            verdict.accepted
            and guard_text is not None
            and transcript.end - transcript.start > MAX_BARGE_IN_S
        ):
            return _rejected(verdict, "too long for a command said over the coach")
        if verdict.accepted and verdict.intent not in self._safety:
            # The phone-loop confidence cannot see talk forced onto a short sentence; the
            # time per word and the speech after the words can.
            if drawn_out(transcript):
                return _rejected(verdict, "too long for its words")
            if transcript.trailing_s > MAX_TRAILING_S:
                return _rejected(verdict, f"{transcript.trailing_s:.1f} s of talk after it")
        share = evidence.share
        if share is not None and share > self._max_echo_share:
            return _rejected(verdict, f"echo of the coach's own speech ({share:.0%} of it)")
        # Words the coach is saying ("say resume when you are ready"), heard back: unless the
        # audio showed the person's voice, which a transcript cannot.
        if verdict.accepted and guarded and echoes(verdict.text, guard_text or ""):
            return _rejected(verdict, "echo of the coach's own speech")
        return verdict

    def _span(self, transcript: Transcript) -> tuple[float, float]:
        return self._origin_s + transcript.start, self._origin_s + transcript.end

    def _over_coach(self, transcript: Transcript) -> bool:
        """Did the coach play during this result's audio? Known from the audio, so it holds
        however late the result comes (a loaded machine can decode seconds behind)."""
        if self._echo is None or transcript.end <= transcript.start:
            return False
        return self._echo.playing(*self._span(transcript)) >= PLAYING_SHARE

    def _echo_of(self, transcript: Transcript) -> EchoEvidence:
        if self._echo is None or transcript.end <= transcript.start:
            return EchoEvidence()
        start, end = self._span(transcript)
        evidence = EchoEvidence(
            self._echo.echo_share(start, end),
            self._echo.passed(start, end),
            self._echo.settled(start),
        )
        _LOG.debug("%r (%.2f) at %.2f-%.2f s: %s", transcript.text, transcript.confidence,
                   start, end, evidence)  # fmt: skip
        return evidence


def _rejected(verdict: Verdict, reason: str) -> Verdict:
    return dataclasses.replace(verdict, accepted=False, reason=reason)


def build_listener(
    source: AudioSource,
    intents: Any,
    on_heard: OnHeard,
    *,
    states: Mapping[str, Collection[str]] | None = None,
    spec: Any = None,
    barge_in: Collection[str] = BARGE_IN,
    initial_state: str = "idle",
    on_rejected: OnRejected | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    echo: EchoJudge | None = None,
    isolate: bool = True,
) -> Listener:
    """Compile one grammar per state from hassil `intents`, build the engine, wire it up.

    `spec` is a voice.hearing.engines.EngineSpec (default: auto engine, default settings).
    With `isolate` the engine runs in its own process (voice.hearing.isolated): decoding then
    never stalls the rest of the coach.
    """
    from voice.hearing.engines import EngineSpec, create
    from voice.hearing.grammar import compile_state_grammars

    states = dict(states or DEFAULT_STATE_INTENTS)
    grammars = compile_state_grammars(intents, states, always=barge_in)
    engine = spec or EngineSpec()

    def build() -> Recognizer:
        if isolate:
            from voice.hearing.isolated import IsolatedRecognizer

            return IsolatedRecognizer(engine, grammars)
        return create(engine, grammars)

    recognizer = build()
    return Listener(
        source,
        recognizer,
        states,
        on_heard,
        verifier=Verifier(intents),
        barge_in=barge_in,
        initial_state=initial_state,
        on_rejected=on_rejected,
        min_confidence=min_confidence,
        rebuild=build,
        echo=echo,
    )
