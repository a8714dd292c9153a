"""The coach: a pure dialogue state machine. `handle(event)` returns the commands to run.

Time is an input: every event carries `now`, and the coach asks for timers instead of
sleeping. Count cues are sent ahead with absolute deadlines (`Utterance.at`), derived from
the hold's start, so they never drift however long anything takes to say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from content.model import Content
from intents.normalize import looks_like_question
from voice.coach import commands as c
from voice.coach import resuming
from voice.coach.counting import cues_within
from voice.coach.events import (
    Event,
    Heard,
    MicrophoneChanged,
    ResumeOffered,
    SpeechFinished,
    SpeechStarted,
    TimerFired,
)
from voice.coach.handlers import HANDLERS, handled_intents
from voice.coach.lines import Line, Lines
from voice.coach.plan import build_plan
from voice.coach.session import SPEAKING, TIMING, WAITING, Session
from voice.ports import Utterance


@dataclass
class CoachSettings:
    count_style: str = "marks"
    first_session: bool = True
    default_routine: str = "quick"
    # What the runtime knows from the session store, as ready lines: the core never reads it.
    history: dict[str, Line] = field(default_factory=dict)  # "week", "streak", "last"
    opening_note: Line | None = None  # said once at the start of the next session


class Coach:
    def __init__(self, content: Content, settings: CoachSettings | None = None) -> None:
        self.content = content
        self.settings = settings or CoachSettings()
        self.lines = Lines(content.responses)
        self.session: Session | None = None
        self.finished = False
        self.last_heard: str | None = None
        self.last_intent: str | None = None
        self.last_instruction: tuple[Line, ...] = ()
        self.speaking: set[int] = set()
        self._next_id = 0
        self.out: list[c.Command] = []
        self._last_status: dict[str, Any] | None = None
        self.now = 0.0
        self.microphone: bool | None = None  # None: not listening on a microphone
        self.offer: dict[str, Any] | None = None  # a cut-short session we offered to continue

    # -- the one entry point -------------------------------------------------------------

    def handle(self, event: Event) -> list[c.Command]:
        self.out = []
        self.now = event.now
        if isinstance(event, Heard):
            self._on_heard(event)
        elif isinstance(event, TimerFired):
            self._on_timer(event)
        elif isinstance(event, SpeechFinished):
            self._on_speech_finished(event)
        elif isinstance(event, SpeechStarted):
            self.speaking.add(event.utterance_id)
        elif isinstance(event, ResumeOffered):
            resuming.offer_resume(self, event.position)
        elif isinstance(event, MicrophoneChanged):
            self.microphone = event.available
            # Said, never paused for: the hold's clock must not depend on the microphone.
            self.say(Line("microphone_back" if event.available else "microphone_lost", kind="info"))
        self._emit_status_if_changed()
        out, self.out = self.out, []
        return out

    # -- status --------------------------------------------------------------------------

    def status(self, now: float) -> dict[str, Any]:
        s = self.session
        base: dict[str, Any] = {
            "state": "finished" if self.finished else "idle",
            "routine": None,
            "routine_name": None,
            "stretch": None,
            "stretch_name": None,
            "stretch_index": None,
            "stretch_count": 0,
            "step": None,
            "step_count": None,
            "step_text": None,
            "side": None,
            "hold_seconds": None,
            "remaining_seconds": None,
            "paused": False,
            "awaiting": None,
            "speaking": bool(self.speaking),
            "last_heard": self.last_heard,
            "last_intent": self.last_intent,
            "count_style": self.settings.count_style,
            "progress": 1.0 if self.finished else 0.0,
            "resumed": False,
            "clock_running": False,
            "microphone": self.microphone,
        }
        if s is None:
            return base
        seg = s.segment
        stretch = None
        if seg.stretch_index is not None:
            stretch = self.content.stretch(s.plan.stretch_ids[seg.stretch_index])
        base.update(
            state="rest" if s.phase == WAITING else seg.state,
            routine=s.plan.routine_id,
            routine_name=s.plan.routine_name,
            stretch=stretch.id if stretch else None,
            stretch_name=stretch.name if stretch else None,
            stretch_index=seg.stretch_index,
            stretch_count=len(s.plan.stretch_ids),
            side=seg.side,
            paused=s.paused,
            awaiting="confirm_stop" if s.paused_by == "confirm" else None,
            clock_running=s.phase == TIMING and not s.paused,
            resumed=s.resumed,
            progress=round(s.hold_progress(now), 3),
        )
        if stretch is not None:
            base["step_count"] = len(stretch.steps) + 1
            step = seg.step if seg.state == "instruct" else None
            base["step"] = step
            base["step_text"] = self._segment_text(seg.repeat)
        if seg.state in ("hold", "rest", "switch") and s.phase != WAITING:
            base["hold_seconds"] = seg.seconds if seg.state == "hold" else None
            base["remaining_seconds"] = round(s.seconds_left(now), 1)
        return base

    def _segment_text(self, lines: tuple[Line, ...]) -> str | None:
        texts = [str(line.fields["text"]) for line in lines if "text" in line.fields]
        return " ".join(texts) or None

    def _emit_status_if_changed(self) -> None:
        status = self.status(self.now)
        stable = {k: v for k, v in status.items() if k != "remaining_seconds"}
        if stable != self._last_status:
            self._last_status = stable
            self.out.append(c.StatusChanged(status))

    # -- speaking ------------------------------------------------------------------------

    def say(self, line: Line, at: float | None = None) -> int:
        self._next_id += 1
        text = self.lines.render(line)
        self.out.append(c.Say(Utterance(self._next_id, text, line.kind, at)))
        return self._next_id

    def say_all(self, lines: tuple[Line, ...]) -> int | None:
        last = None
        for line in lines:
            last = self.say(line)
        return last

    def hush(self) -> None:
        """Cut speech, drop pending cues and stop the segment clock."""
        self.out += [c.Interrupt(), c.CancelCues()]
        s = self.session
        if s is not None:
            if s.phase == TIMING:
                s.remaining = s.seconds_left(self.now)
                s.deadline = None
            self.out.append(c.CancelTimer(s.timer_name()))
            s.generation += 1
            s.gate_id = None

    # -- walking the plan ----------------------------------------------------------------

    def enter(self, index: int) -> None:
        s = self.session
        assert s is not None
        s.index, s.phase, s.remaining, s.deadline, s.paused_by = index, SPEAKING, None, None, None
        seg = s.segment
        if seg.state == "instruct" or seg.state == "intro":
            self.last_instruction = seg.repeat
        if seg.state == "finished":
            self.say(self.closing_line())
            self.end(completed=True)
            return
        s.gate_id = self.say_all(seg.lines)
        if s.gate_id is None:
            self.start_clock(seg.seconds)

    def closing_line(self) -> Line:
        s = self.session
        assert s is not None
        count = len(s.plan.stretch_ids)
        held = int(sum(s.held.values()))
        if held < s.plan.hold_total:
            return Line("summary_partial", {"done": len(s.stretches_done), "count": count})
        if count == 1:
            return Line("summary_stretch", {"stretch": s.plan.routine_name, "hold_total": held})
        return Line("summary", {"routine": s.plan.routine_name, "count": count, "hold_total": held})

    def start_clock(self, seconds: float) -> None:
        s = self.session
        assert s is not None
        s.phase, s.gate_id, s.remaining = TIMING, None, None
        s.deadline = self.now + seconds
        s.generation += 1
        if s.segment.state == "hold":
            self.schedule_cues(s.deadline, seconds)
        self.out.append(c.StartTimer(s.timer_name(), s.deadline))

    def schedule_cues(self, deadline: float, remaining: float) -> None:
        s = self.session
        assert s is not None
        hold = s.segment.seconds
        for cue in cues_within(self.settings.count_style, hold, remaining):
            self.say(Line(cue.key, {"seconds": cue.seconds}, "count"), at=deadline - cue.remaining)
        self.say(Line("hold_end", kind="count"), at=deadline)

    def advance(self) -> None:
        s = self.session
        assert s is not None
        seg = s.segment
        if seg.state == "hold":
            key = s.held_key()
            s.held[key] = s.held.get(key, 0.0) + seg.seconds
            if seg.stretch_index is not None and self._last_hold_of_stretch(s.index):
                s.stretches_done.add(seg.stretch_index)
        self.enter(s.index + 1)

    def _last_hold_of_stretch(self, index: int) -> bool:
        s = self.session
        assert s is not None
        later = s.plan.segments[index + 1 :]
        stretch = s.plan.segments[index].stretch_index
        return not any(x.state == "hold" and x.stretch_index == stretch for x in later)

    def resume_clock(self, line_key: str | None) -> None:
        """Start the clock again where it stopped, after an optional line about it."""
        s = self.session
        assert s is not None
        s.paused_by = None
        if s.phase == WAITING or s.remaining is None:
            self.enter(s.index)
            return
        if line_key is None:
            self.start_clock(s.remaining)
            return
        s.phase = SPEAKING
        s.gate_id = self.say(Line(line_key, {"seconds": s.spoken_seconds_left(self.now)}))

    def pause_clock(self, by: str) -> None:
        s = self.session
        assert s is not None
        # In the speaking phase `remaining` stays as it is: None means the segment's lines are
        # said again on resume, a number means a resume line was cut and the clock waits.
        self.hush()
        s.paused_by = by
        if by in ("user", "confirm"):
            s.pauses += by == "user"

    def end(self, completed: bool) -> None:
        s = self.session
        assert s is not None
        done = len(s.stretches_done)
        summary = {
            "routine": s.plan.routine_id,
            "completed": completed,
            "started_at": s.started_at,
            "ended_at": self.now,
            "stretch_count": len(s.plan.stretch_ids),
            "stretches_done": done,
            "held": dict(s.held),
            "pauses": s.pauses,
            "pain_reports": s.pain_reports,
        }
        if not completed:
            self.say(Line("summary_partial", {"done": done, "count": len(s.plan.stretch_ids)}))
        self.out.append(c.SessionEnded(completed, summary))
        self.session = None
        self.finished = True
        self.last_instruction = ()  # "repeat" after the end must not replay an old step
        self.settings.first_session = False

    # -- events --------------------------------------------------------------------------

    def _on_timer(self, event: TimerFired) -> None:
        s = self.session
        if s is None or s.phase != TIMING or event.name != s.timer_name():
            return  # a timer from before a pause, skip or stop
        self.advance()

    def _on_speech_finished(self, event: SpeechFinished) -> None:
        self.speaking.discard(event.utterance_id)
        s = self.session
        if s is None or event.utterance_id != s.gate_id:
            return
        s.gate_id = None
        if s.paused_by == "answer":
            self.resume_clock("back_to_hold" if s.segment.state == "hold" and s.remaining else None)
        elif s.paused_by is None and s.phase == SPEAKING:
            self.start_clock(s.remaining if s.remaining is not None else s.segment.seconds)

    def _on_heard(self, event: Heard) -> None:
        self.last_heard = event.text
        self.last_intent = event.intent
        handler = HANDLERS.get(event.intent or "")
        if handler is not None:
            handler(self, event)
        elif event.intent is None and self.session is None and looks_like_question(event.text):
            self.say(Line("faq_unknown", kind="info"))
        # Anything else during a session is ignored: the person may be talking to someone.

    # -- helpers the intent handlers share -------------------------------------------------

    def begin(self, routine: Any) -> None:
        self.offer = None
        note = self.settings.opening_note
        self.settings.opening_note = None
        opening = (note,) if note is not None else ()
        plan = build_plan(self.content, routine, self.settings.first_session, opening)
        self.finished = False
        self.session = Session(plan, started_at=self.now)
        self.enter(0)

    def resume_request(self) -> None:
        s = self.session
        assert s is not None
        if s.paused_by == "pain":
            s.paused_by = None
            self.enter(s.index)
            return
        self.resume_clock(
            "resumed_hold" if s.segment.state == "hold" and s.remaining else "resumed"
        )

    def resume_after_line(self) -> None:
        s = self.session
        assert s is not None
        key = "resumed_hold" if s.segment.state == "hold" and s.remaining else None
        self.resume_clock(key)


__all__ = ["Coach", "CoachSettings", "handled_intents"]
