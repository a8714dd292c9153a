"""Behaviour of the coaching core, event by event, on a simulated clock."""

from __future__ import annotations

from content.model import Content
from intents.matcher import IntentMatcher
from tests.coach.driver import run_script, said, statuses
from voice.coach import commands as c
from voice.coach.events import Heard, SpeechFinished, TimerFired
from voice.coach.machine import Coach, CoachSettings, handled_intents


def first_hold_start(content: Content, matcher: IntentMatcher) -> float:
    _, records = run_script(content, matcher, [(0, "start the quick routine")], first_session=False)
    return next(t for t, text in said(records) if text == "20 seconds left.") - 10.0


def test_every_intent_in_the_templates_has_a_handler(matcher: IntentMatcher) -> None:
    assert matcher.intent_names <= handled_intents()


def test_both_sides_get_the_configured_hold(content: Content, matcher: IntentMatcher) -> None:
    _, records = run_script(content, matcher, [(0, "start the quick routine")], first_session=False)
    ended = [r.data for r in records if r.kind == "ended"][0]
    assert ended["completed"] is True
    assert ended["held"] == {
        "kneeling_lunge:left": 30.0, "kneeling_lunge:right": 30.0,
        "supine_psoas:left": 30.0, "supine_psoas:right": 30.0,
    }  # fmt: skip


def test_counts_land_on_whole_seconds_from_the_hold_start(
    content: Content, matcher: IntentMatcher
) -> None:
    _, records = run_script(content, matcher, [(0, "start the quick routine")], first_session=False)
    lines = said(records)
    release = [t for t, text in lines if text in ("And release.", "And relax.")]
    twenty = [t for t, text in lines if text == "20 seconds left."]
    # Every "20 seconds left" is exactly 20 s before its release: cues come from deadlines.
    assert [round(r - t, 6) for t, r in zip(twenty, release, strict=True)] == [20.0] * 4


def test_pause_keeps_remaining_seconds_exactly(content: Content, matcher: IntentMatcher) -> None:
    start = first_hold_start(content, matcher)
    coach, records = run_script(
        content, matcher, [(0, "start the quick routine"), (start + 12.5, "pause")],
        until=start + 500, first_session=False,
    )  # fmt: skip
    paused = [st for _, st in statuses(records) if st["paused"]][0]
    assert paused["remaining_seconds"] == 17.5
    assert coach.status(start + 499)["remaining_seconds"] == 17.5  # frozen while paused


def test_resume_after_pause_continues_with_the_same_seconds(
    content: Content, matcher: IntentMatcher
) -> None:
    start = first_hold_start(content, matcher)
    _, records = run_script(
        content, matcher,
        [(0, "start the quick routine"), (start + 12.5, "pause"), (start + 100, "resume")],
        first_session=False,
    )  # fmt: skip
    lines = said(records)
    assert "Resuming. 18 seconds left." in [text for _, text in lines]
    resumed_at = next(t for t, text in lines if text.startswith("Resuming."))
    release = next(t for t, text in lines if text == "And release." and t > resumed_at)
    # The hold restarts when the resume line ends, then runs the 17.5 s it had left.
    ended = [r.data for r in records if r.kind == "ended"][0]
    assert ended["held"]["kneeling_lunge:left"] == 30.0
    assert release - resumed_at > 17.5


def test_pain_ends_the_hold_at_once_without_confirmation(
    content: Content, matcher: IntentMatcher
) -> None:
    coach = Coach(content, CoachSettings(first_session=False))
    out = coach.handle(Heard(0.0, "start", "StartRoutine", {"routine": "quick"}))
    coach.session.index = next(
        i for i, s in enumerate(coach.session.plan.segments) if s.state == "hold"
    )  # type: ignore[union-attr]
    coach.session.phase, coach.session.deadline = "timing", 30.0  # type: ignore[union-attr]
    out = coach.handle(Heard(10.0, "ouch", "ReportPain", {}))
    kinds = [type(x).__name__ for x in out]
    assert kinds[:3] == ["Interrupt", "CancelCues", "CancelTimer"]
    says = [x.utterance for x in out if isinstance(x, c.Say)]
    assert says[0].kind == "safety" and "Stopping now" in says[0].text
    status = coach.status(11.0)
    assert status["paused"] is True and status["state"] == "rest"
    assert not any(isinstance(x, c.Say) and "Do you want" in x.utterance.text for x in out)


def test_stop_asks_first_only_when_more_than_half_remains(
    content: Content, matcher: IntentMatcher
) -> None:
    _, early = run_script(
        content, matcher, [(0, "start the quick routine"), (30, "stop")], first_session=False
    )
    assert any("Do you want to stop?" in text for _, text in said(early))
    _, late = run_script(
        content, matcher, [(0, "start the quick routine"), (250, "stop")], first_session=False
    )
    texts = [text for _, text in said(late)]
    assert not any("Do you want to stop?" in t for t in texts)
    assert any(t.startswith("Session ended.") for t in texts)


def test_yes_confirms_stop_and_no_carries_on(content: Content, matcher: IntentMatcher) -> None:
    coach, _ = run_script(
        content, matcher, [(0, "start the quick routine"), (30, "stop"), (32, "yes")], until=40
    )
    assert coach.session is None and coach.finished
    coach, _ = run_script(
        content, matcher, [(0, "start the quick routine"), (30, "stop"), (32, "no")], until=40
    )
    assert coach.session is not None and not coach.session.paused


def test_question_mid_hold_pauses_the_hold_while_answering(
    content: Content, matcher: IntentMatcher
) -> None:
    start = first_hold_start(content, matcher)
    _, records = run_script(
        content, matcher, [(0, "start the quick routine"), (start + 5, "what is the psoas")],
        first_session=False,
    )  # fmt: skip
    texts = [text for _, text in said(records)]
    assert any(t.startswith("The psoas") for t in texts)
    assert "Back to the stretch. 25 seconds left." in texts
    ended = [r.data for r in records if r.kind == "ended"][0]
    assert ended["held"]["kneeling_lunge:left"] == 30.0


def test_repeat_repeats_the_instruction_not_the_count(
    content: Content, matcher: IntentMatcher
) -> None:
    start = first_hold_start(content, matcher)
    _, records = run_script(
        content, matcher, [(0, "start the quick routine"), (start + 11, "repeat")], until=start + 16,
        first_session=False,
    )  # fmt: skip
    after = [text for t, text in said(records) if t >= start + 11]
    assert after[0] == "Left side. Left knee down, right foot in front."
    assert "Keep your back tall" in after[1]


def test_unmatched_speech_during_a_hold_is_ignored(
    content: Content, matcher: IntentMatcher
) -> None:
    start = first_hold_start(content, matcher)
    _, records = run_script(
        content, matcher, [(0, "start the quick routine"), (start + 3, "what's the weather like")],
        until=start + 4, first_session=False,
    )  # fmt: skip
    assert [text for t, text in said(records) if start + 3 <= t < start + 4] == []


def test_time_left_during_a_hold(content: Content, matcher: IntentMatcher) -> None:
    start = first_hold_start(content, matcher)
    _, records = run_script(
        content, matcher, [(0, "start the quick routine"), (start + 7.5, "how long is left")],
        until=start + 9, first_session=False,
    )  # fmt: skip
    assert (round(start + 7.5, 2), "23 seconds left.") in said(records)


def test_stale_timer_is_ignored(content: Content) -> None:
    coach = Coach(content)
    coach.handle(Heard(0.0, "start", "StartRoutine", {}))
    before = coach.status(5.0)
    out = coach.handle(TimerFired(5.0, "segment:999"))
    assert out == []
    assert coach.status(5.0) == before


def test_speech_finished_for_an_unknown_utterance_changes_nothing(content: Content) -> None:
    coach = Coach(content)
    coach.handle(Heard(0.0, "start", "StartRoutine", {}))
    before = coach.status(1.0)
    coach.handle(SpeechFinished(1.0, 12345))
    assert coach.status(1.0) == before


def test_first_session_opens_with_the_safety_note(content: Content, matcher: IntentMatcher) -> None:
    _, records = run_script(content, matcher, [(0, "start the quick routine")], until=1)
    assert said(records)[0][1].startswith("Before we begin")
    _, records = run_script(
        content, matcher, [(0, "start the quick routine")], until=1, first_session=False
    )
    assert not said(records)[0][1].startswith("Before we begin")


def test_status_has_the_public_fields(content: Content) -> None:
    status = Coach(content).status(0.0)
    for key in ("state", "routine", "stretch", "stretch_index", "stretch_count", "step", "side",
                "hold_seconds", "remaining_seconds", "paused", "speaking", "last_heard",
                "last_intent", "count_style"):  # fmt: skip
        assert key in status


def test_losing_the_microphone_is_said_and_the_hold_keeps_time(content: Content) -> None:
    from voice.coach.events import MicrophoneChanged

    coach = Coach(content, CoachSettings(first_session=False))
    coach.handle(Heard(0.0, "start", "StartRoutine", {}))
    s = coach.session
    assert s is not None
    s.index = next(i for i, seg in enumerate(s.plan.segments) if seg.state == "hold")
    s.phase, s.deadline = "timing", 30.0
    out = coach.handle(MicrophoneChanged(10.0, False))
    assert [x.utterance.text for x in out if isinstance(x, c.Say)][0].startswith(
        "I lost the microphone"
    )
    assert not any(isinstance(x, c.CancelTimer | c.CancelCues | c.Interrupt) for x in out)
    assert (
        coach.status(12.0)["remaining_seconds"] == 18.0
        and coach.status(12.0)["microphone"] is False
    )
    out = coach.handle(MicrophoneChanged(14.0, True))
    assert [x.utterance.text for x in out if isinstance(x, c.Say)][0].startswith(
        "The microphone is back"
    )
