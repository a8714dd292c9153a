"""The coach: a pure dialogue state machine. `handle(event)` returns the commands to run.

Time is an input: every event carries `now`, and the coach asks for timers instead of
sleeping. Count cues are sent ahead with absolute deadlines (`Utterance.at`), derived from
the hold's start, so they never drift however long anything takes to say.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from content.model import Content
from intents.normalize import looks_like_question
from voice.coach import commands as c
from voice.coach.counting import cues_within, shift_style
from voice.coach.events import (
    Event,
    Heard,
    ResumeOffered,
    SpeechFinished,
    SpeechStarted,
    TimerFired,
)
from voice.coach.lines import Line, Lines
from voice.coach.plan import build_plan, single_stretch_routine
from voice.coach.session import SPEAKING, TIMING, WAITING, Session
from voice.ports import Utterance

RATE_STEP_WPM = 25
COUNT_STYLE_LINES = {
    "every-second": "count_every_second",
    "marks": "count_marks",
    "quiet": "count_quiet",
}


@dataclass
class CoachSettings:
    count_style: str = "marks"
    first_session: bool = True
    default_routine: str = "quick"
    # What the runtime knows from the session store, as ready lines: the core never reads it.
    history: dict[str, Line] = field(default_factory=dict)  # "week", "streak", "last"
    opening_note: Line | None = None  # said once at the start of the next session


Handler = Callable[["Coach", Heard], None]
HANDLERS: dict[str, Handler] = {}


def handles(*intents: str) -> Callable[[Handler], Handler]:
    """Register a method as the handler of one or more intents."""

    def register(fn: Handler) -> Handler:
        for name in intents:
            HANDLERS[name] = fn
        return fn

    return register


def handled_intents() -> frozenset[str]:
    return frozenset(HANDLERS)


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
        self._out: list[c.Command] = []
        self._last_status: dict[str, Any] | None = None
        self._now = 0.0
        self.offer: dict[str, Any] | None = None  # a cut-short session we offered to continue

    # -- the one entry point -------------------------------------------------------------

    def handle(self, event: Event) -> list[c.Command]:
        self._out = []
        self._now = event.now
        if isinstance(event, Heard):
            self._on_heard(event)
        elif isinstance(event, TimerFired):
            self._on_timer(event)
        elif isinstance(event, SpeechFinished):
            self._on_speech_finished(event)
        elif isinstance(event, SpeechStarted):
            self.speaking.add(event.utterance_id)
        elif isinstance(event, ResumeOffered):
            self._offer_resume(event.position)
        self._emit_status_if_changed()
        out, self._out = self._out, []
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
        status = self.status(self._now)
        stable = {k: v for k, v in status.items() if k != "remaining_seconds"}
        if stable != self._last_status:
            self._last_status = stable
            self._out.append(c.StatusChanged(status))

    # -- speaking ------------------------------------------------------------------------

    def _say(self, line: Line, at: float | None = None) -> int:
        self._next_id += 1
        text = self.lines.render(line)
        self._out.append(c.Say(Utterance(self._next_id, text, line.kind, at)))
        return self._next_id

    def _say_all(self, lines: tuple[Line, ...]) -> int | None:
        last = None
        for line in lines:
            last = self._say(line)
        return last

    def _hush(self) -> None:
        """Cut speech, drop pending cues and stop the segment clock."""
        self._out += [c.Interrupt(), c.CancelCues()]
        s = self.session
        if s is not None:
            if s.phase == TIMING:
                s.remaining = s.seconds_left(self._now)
                s.deadline = None
            self._out.append(c.CancelTimer(s.timer_name()))
            s.generation += 1
            s.gate_id = None

    # -- walking the plan ----------------------------------------------------------------

    def _enter(self, index: int) -> None:
        s = self.session
        assert s is not None
        s.index, s.phase, s.remaining, s.deadline, s.paused_by = index, SPEAKING, None, None, None
        seg = s.segment
        if seg.state == "instruct" or seg.state == "intro":
            self.last_instruction = seg.repeat
        if seg.state == "finished":
            self._say(self._closing_line())
            self._end(completed=True)
            return
        s.gate_id = self._say_all(seg.lines)
        if s.gate_id is None:
            self._start_clock(seg.seconds)

    def _closing_line(self) -> Line:
        s = self.session
        assert s is not None
        count = len(s.plan.stretch_ids)
        held = int(sum(s.held.values()))
        if held < s.plan.hold_total:
            return Line("summary_partial", {"done": len(s.stretches_done), "count": count})
        if count == 1:
            return Line("summary_stretch", {"stretch": s.plan.routine_name, "hold_total": held})
        return Line("summary", {"routine": s.plan.routine_name, "count": count, "hold_total": held})

    def _start_clock(self, seconds: float) -> None:
        s = self.session
        assert s is not None
        s.phase, s.gate_id, s.remaining = TIMING, None, None
        s.deadline = self._now + seconds
        s.generation += 1
        if s.segment.state == "hold":
            self._schedule_cues(s.deadline, seconds)
        self._out.append(c.StartTimer(s.timer_name(), s.deadline))

    def _schedule_cues(self, deadline: float, remaining: float) -> None:
        s = self.session
        assert s is not None
        hold = s.segment.seconds
        for cue in cues_within(self.settings.count_style, hold, remaining):
            self._say(Line(cue.key, {"seconds": cue.seconds}, "count"), at=deadline - cue.remaining)
        self._say(Line("hold_end", kind="count"), at=deadline)

    def _advance(self) -> None:
        s = self.session
        assert s is not None
        seg = s.segment
        if seg.state == "hold":
            key = s.held_key()
            s.held[key] = s.held.get(key, 0.0) + seg.seconds
            if seg.stretch_index is not None and self._last_hold_of_stretch(s.index):
                s.stretches_done.add(seg.stretch_index)
        self._enter(s.index + 1)

    def _last_hold_of_stretch(self, index: int) -> bool:
        s = self.session
        assert s is not None
        later = s.plan.segments[index + 1 :]
        stretch = s.plan.segments[index].stretch_index
        return not any(x.state == "hold" and x.stretch_index == stretch for x in later)

    def _resume(self, line_key: str | None) -> None:
        """Start the clock again where it stopped, after an optional line about it."""
        s = self.session
        assert s is not None
        s.paused_by = None
        if s.phase == WAITING or s.remaining is None:
            self._enter(s.index)
            return
        if line_key is None:
            self._start_clock(s.remaining)
            return
        s.phase = SPEAKING
        s.gate_id = self._say(Line(line_key, {"seconds": s.spoken_seconds_left(self._now)}))

    def _pause_clock(self, by: str) -> None:
        s = self.session
        assert s is not None
        # In the speaking phase `remaining` stays as it is: None means the segment's lines are
        # said again on resume, a number means a resume line was cut and the clock waits.
        self._hush()
        s.paused_by = by
        if by in ("user", "confirm"):
            s.pauses += by == "user"

    def _end(self, completed: bool) -> None:
        s = self.session
        assert s is not None
        done = len(s.stretches_done)
        summary = {
            "routine": s.plan.routine_id,
            "completed": completed,
            "started_at": s.started_at,
            "ended_at": self._now,
            "stretch_count": len(s.plan.stretch_ids),
            "stretches_done": done,
            "held": dict(s.held),
            "pauses": s.pauses,
            "pain_reports": s.pain_reports,
        }
        if not completed:
            self._say(Line("summary_partial", {"done": done, "count": len(s.plan.stretch_ids)}))
        self._out.append(c.SessionEnded(completed, summary))
        self.session = None
        self.finished = True
        self.last_instruction = ()  # "repeat" after the end must not replay an old step
        self.settings.first_session = False

    # -- events --------------------------------------------------------------------------

    def _on_timer(self, event: TimerFired) -> None:
        s = self.session
        if s is None or s.phase != TIMING or event.name != s.timer_name():
            return  # a timer from before a pause, skip or stop
        self._advance()

    def _on_speech_finished(self, event: SpeechFinished) -> None:
        self.speaking.discard(event.utterance_id)
        s = self.session
        if s is None or event.utterance_id != s.gate_id:
            return
        s.gate_id = None
        if s.paused_by == "answer":
            self._resume("back_to_hold" if s.segment.state == "hold" and s.remaining else None)
        elif s.paused_by is None and s.phase == SPEAKING:
            self._start_clock(s.remaining if s.remaining is not None else s.segment.seconds)

    def _on_heard(self, event: Heard) -> None:
        self.last_heard = event.text
        self.last_intent = event.intent
        handler = HANDLERS.get(event.intent or "")
        if handler is not None:
            handler(self, event)
        elif event.intent is None and self.session is None and looks_like_question(event.text):
            self._say(Line("faq_unknown", kind="info"))
        # Anything else during a session is ignored: the person may be talking to someone.

    # -- intent handlers -----------------------------------------------------------------

    @handles("StartRoutine")
    def _start_routine(self, event: Heard) -> None:
        s = self.session
        if s is not None:
            if s.paused_by in ("user", "pain") and "routine" not in event.slots:
                self._resume_request()
            else:
                self._say(Line("already_running", {"routine": s.plan.routine_name}, "info"))
            return
        routine_id = event.slots.get("routine", self.settings.default_routine)
        routine = self.content.routines.get(routine_id)
        if routine is None:
            routine = next(iter(self.content.routines.values()))
        self._begin(routine)

    @handles("StartStretch")
    def _start_stretch(self, event: Heard) -> None:
        stretch = self.content.stretches.get(event.slots.get("stretch", ""))
        if stretch is None:
            return
        s = self.session
        if s is not None and stretch.id in s.plan.stretch_ids:
            self._hush()
            self._enter(s.plan.stretch_start(s.plan.stretch_ids.index(stretch.id)))
            return
        if s is not None:
            self._hush()
            self._end(completed=False)
        self._begin(single_stretch_routine(stretch))

    def _begin(self, routine: Any) -> None:
        self.offer = None
        note = self.settings.opening_note
        self.settings.opening_note = None
        opening = (note,) if note is not None else ()
        plan = build_plan(self.content, routine, self.settings.first_session, opening)
        self.finished = False
        self.session = Session(plan, started_at=self._now)
        self._enter(0)

    @handles("Pause")
    def _pause(self, event: Heard) -> None:
        s = self.session
        if s is None:
            self._say(Line("no_session", kind="info"))
            return
        if s.paused_by == "user":
            self._say(Line("already_paused", kind="info"))
            return
        self._pause_clock("user")
        if s.segment.state == "hold" and s.remaining is not None:
            self._say(Line("paused_hold", {"seconds": s.spoken_seconds_left(self._now)}))
        else:
            self._say(Line("paused"))

    @handles("Resume")
    def _resume_intent(self, event: Heard) -> None:
        s = self.session
        if s is None and self.offer is not None:
            self._continue_offer()
        elif s is None:
            self._say(Line("no_session", kind="info"))
        elif s.paused_by == "confirm":
            self._say(Line("stop_cancelled"))
            self._resume_after_line()
        elif s.paused_by is None:
            self._say(Line("not_paused", kind="info"))
        else:
            self._resume_request()

    def _resume_request(self) -> None:
        s = self.session
        assert s is not None
        if s.paused_by == "pain":
            s.paused_by = None
            self._enter(s.index)
            return
        self._resume("resumed_hold" if s.segment.state == "hold" and s.remaining else "resumed")

    def _resume_after_line(self) -> None:
        s = self.session
        assert s is not None
        key = "resumed_hold" if s.segment.state == "hold" and s.remaining else None
        self._resume(key)

    @handles("Stop")
    def _stop(self, event: Heard) -> None:
        s = self.session
        if s is None:
            self._out.append(c.Interrupt())
            return
        if s.paused_by != "confirm" and s.remaining_share(self._now) > 0.5:
            self._pause_clock("confirm")
            self._say(Line("confirm_stop"))
            return
        self._hush()
        self._end(completed=False)

    @handles("Yes")
    def _yes(self, event: Heard) -> None:
        s = self.session
        if s is None and self.offer is not None:
            self._continue_offer()
            return
        if s is not None and s.paused_by == "confirm":
            self._hush()
            self._end(completed=False)

    @handles("No")
    def _no(self, event: Heard) -> None:
        s = self.session
        if s is None and self.offer is not None:
            self.offer = None
            self._say(Line("resume_declined", kind="info"))
            return
        if s is not None and s.paused_by == "confirm":
            self._say(Line("stop_cancelled"))
            self._resume_after_line()

    @handles("ReportPain")
    def _pain(self, event: Heard) -> None:
        s = self.session
        if s is None:
            self._out += [c.Interrupt(), c.CancelCues()]
            self._say(Line("pain", kind="safety"))
            return
        self._hush()
        self._say(Line("pain", kind="safety"))
        if s.paused_by == "pain":
            return  # already stopped and waiting; the guidance is enough
        s.pain_reports += 1
        current = s.stretch_index
        last = len(s.plan.segments) - 1
        s.index = (
            s.plan.stretch_start(current + 1) if current is not None else min(s.index + 1, last)
        )
        s.phase, s.remaining, s.deadline, s.paused_by = WAITING, None, None, "pain"
        self._say(Line("after_pain"))

    @handles("NextStretch")
    def _next(self, event: Heard) -> None:
        s = self.session
        if s is None:
            self._say(Line("no_session", kind="info"))
            return
        self._hush()
        if s.paused_by == "pain":
            target = s.index  # pain already moved the session on to the next stretch
        else:
            current = s.stretch_index if s.stretch_index is not None else -1
            target = s.plan.stretch_start(current + 1)
        if s.plan.segments[target].state == "finished":
            self._say(Line("last_stretch"))
        else:
            self._say(Line("next_stretch"))
        self._enter(target)

    @handles("PreviousStretch")
    def _previous(self, event: Heard) -> None:
        s = self.session
        if s is None:
            self._say(Line("no_session", kind="info"))
            return
        self._hush()
        current = s.stretch_index if s.stretch_index is not None else 0
        if current == 0:
            self._say(Line("first_stretch"))
            self._enter(s.plan.stretch_start(0))
            return
        name = self.content.stretch(s.plan.stretch_ids[current - 1]).name
        self._say(Line("previous_stretch", {"stretch": name}))
        self._enter(s.plan.stretch_start(current - 1))

    @handles("StartOver")
    def _start_over(self, event: Heard) -> None:
        s = self.session
        if s is None and self.offer is not None:
            routine = self._routine_of(self.offer)
            if routine is not None:
                self._begin(routine)
                return
        if s is None:
            self._say(Line("no_session", kind="info"))
            return
        self._hush()
        if s.stretch_index is None:
            self._enter(0)
            return
        name = self.content.stretch(s.plan.stretch_ids[s.stretch_index]).name
        self._say(Line("start_over", {"stretch": name}))
        self._enter(s.plan.stretch_start(s.stretch_index))

    @handles("RepeatStep")
    def _repeat(self, event: Heard) -> None:
        s = self.session
        if s is None or s.paused:
            lines = self.last_instruction
            if not lines:
                self._say(Line("nothing_to_repeat", kind="info"))
            for line in lines:
                self._say(line)
            return
        if s.phase == TIMING and s.segment.state in ("hold", "rest", "switch"):
            for line in s.segment.repeat:
                self._say(Line(line.key, line.fields, "info"))
            return
        self._hush()
        self._enter(s.index)

    @handles("TimeLeft")
    def _time_left(self, event: Heard) -> None:
        s = self.session
        if s is None:
            self._say(Line("no_session", kind="info"))
            return
        seconds = s.spoken_seconds_left(self._now)
        state = s.segment.state
        if state == "hold" and s.paused and s.remaining is not None:
            self._say(Line("time_left_paused", {"seconds": seconds}, "info"))
        elif state == "hold" and s.phase == TIMING:
            self._say(Line("time_left_hold", {"seconds": seconds}, "info"))
        elif state == "rest" and s.phase == TIMING:
            self._say(Line("time_left_rest", {"seconds": seconds}, "info"))
        else:
            minutes = max(1, math.ceil(s.plan.estimated_seconds(s.index) / 60))
            number = (s.stretch_index or 0) + 1
            fields = {"number": number, "count": len(s.plan.stretch_ids), "minutes": minutes}
            self._say(Line("time_left_session", fields, "info"))

    @handles("Help")
    def _help(self, event: Heard) -> None:
        self._say(Line("help_session" if self.session else "help_idle", kind="info"))

    @handles("AskFaq")
    def _ask(self, event: Heard) -> None:
        entry = self.content.faq.get(event.slots.get("topic", ""))
        s = self.session
        if entry is None:
            self._say(Line("faq_unknown", kind="info"))
            return
        if s is None or s.paused_by is not None:
            self._say(Line.text(entry.answer, "info"))
            return
        # A question in the middle of a segment stops its clock while the answer plays.
        self._pause_clock("answer")
        s.gate_id = self._say(Line.text(entry.answer, "info"))

    @handles("SetCountStyle")
    def _count_style(self, event: Heard) -> None:
        style = shift_style(self.settings.count_style, event.slots.get("style", ""))
        if style == self.settings.count_style:
            self._say(Line("count_unchanged", kind="info"))
            return
        self.settings.count_style = style
        s = self.session
        if s is not None and s.segment.state == "hold" and s.phase == TIMING and s.deadline:
            self._out.append(c.CancelCues())
            self._schedule_cues(s.deadline, s.deadline - self._now)
        self._say(Line(COUNT_STYLE_LINES[style], kind="info"))

    @handles("SetSpeechRate")
    def _speech_rate(self, event: Heard) -> None:
        slower = event.slots.get("direction") == "slower"
        self._out.append(c.SetSpeechRate(-RATE_STEP_WPM if slower else RATE_STEP_WPM))
        self._say(Line("rate_slower" if slower else "rate_faster", kind="info"))

    @handles("AskHistory")
    def _ask_history(self, event: Heard) -> None:
        line = self.settings.history.get(event.slots.get("topic", ""))
        self._say(line if line is not None else Line("history_never", kind="info"))

    # -- resuming a session that was cut short -----------------------------------------

    def _offer_resume(self, position: dict[str, Any]) -> None:
        routine = self._routine_of(position)
        stretch = self.content.stretches.get(str(position.get("stretch") or ""))
        if self.session is not None or routine is None or stretch is None:
            return
        self.offer = dict(position)
        fields = {"routine": routine.name, "stretch": stretch.name}
        self._say(Line("resume_offer", fields, "info"))

    def _routine_of(self, position: dict[str, Any]) -> Any:
        routine_id = str(position.get("routine") or "")
        if routine_id in self.content.routines:
            return self.content.routines[routine_id]
        if routine_id in self.content.stretches:  # a single-stretch session
            return single_stretch_routine(self.content.stretches[routine_id])
        return None

    def _continue_offer(self) -> None:
        offer, self.offer = self.offer or {}, None
        routine = self._routine_of(offer)
        if routine is None:
            return
        plan = build_plan(self.content, routine, first_session=False)
        index = int(offer.get("stretch_index") or 0)
        side = offer.get("side")
        target = plan.stretch_start(index)
        hold = next(
            (i for i, seg in enumerate(plan.segments)
             if seg.state == "hold" and seg.stretch_index == index and seg.side == side),
            None,
        )  # fmt: skip
        self.finished = False
        self.session = s = Session(plan, started_at=self._now)
        stretch = (
            self.content.stretch(plan.stretch_ids[index]) if index < len(plan.stretch_ids) else None
        )
        remaining = float(offer.get("remaining_seconds") or 0.0)
        if offer.get("state") == "hold" and hold is not None and remaining > 0 and stretch:
            s.index, s.remaining, s.phase = (
                hold,
                min(remaining, plan.segments[hold].seconds),
                SPEAKING,
            )
            fields = {
                "stretch": stretch.name,
                "side": side,
                "seconds": s.spoken_seconds_left(self._now),
            }
            s.gate_id = self._say(Line("resume_continue_hold", fields))
            return
        if stretch is not None:
            self._say(Line("resume_continue", {"stretch": stretch.name}))
        self._enter(target)
