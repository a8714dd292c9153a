"""Fuzzing (issue 9, part 4): random and adversarial utterances through the intent matcher
and through the coach on the simulated clock never raise and never break an invariant.

The default run is small; `-m slow` runs 100,000 utterances through each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import reduce

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content.model import Content
from intents.matcher import IntentMatcher
from voice.coach.events import Heard, SpeechFinished, SpeechStarted, TimerFired
from voice.coach.machine import Coach, CoachSettings, handled_intents
from voice.simulate import Record, ScriptLine, Simulation

STATES = {"idle", "intro", "instruct", "hold", "switch", "rest", "finished"}

KNOWN = [
    "start the quick routine", "start the full routine", "do the pigeon pose", "pause", "resume",
    "stop", "yes", "no", "next", "go back", "start over", "repeat", "how long is left", "help",
    "ouch", "what is the psoas", "count every second", "count less", "quiet counting", "slower",
    "faster", "skip to the butterfly", "continue", "how many sessions this week", "my streak",
    "when did i last stretch", "okay", "um pause", "stop stop stop", "yes no", "that hurts",
    "start the", "the quick", "routine", "butterfly", "kneeling lunge", "set a timer for 30 seconds",
]  # fmt: skip
FRAGMENTS = [
    "{routine}", "{stretch}", "{topic}", "<bar>", "[the]", "(pause|stop)", "{", "}", "<", ">", "|",
    "%s", "%(x)s", "{0}", "{routine!r}", "\\", "'", '"', "?", "??", "...", "#", "--", "\x00",
    "\u200b", "\u202e", "\ufeff", "\r", "\t", "\n", "\x1b[31m", "🦵", "ẞ", "İ", "ǅ", "ﬁ", "٣", "½",
    "99999999999999999999", "-5", "0", "1e308", "nan", "inf", "thirty", "a hundred", "minus one",
]  # fmt: skip

words = st.sampled_from(sorted({w for k in KNOWN for w in k.split()} | set(FRAGMENTS)))
adversarial = st.one_of(
    st.text(max_size=60),  # any unicode, control characters included
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400),
    st.sampled_from(KNOWN),
    st.lists(words, min_size=1, max_size=30).map(" ".join),
    st.tuples(st.sampled_from(KNOWN), st.sampled_from(FRAGMENTS), st.sampled_from(KNOWN)).map(
        lambda t: " ".join(t)
    ),
    st.integers().map(str),
    st.floats().map(str),
    st.builds(lambda w, n: " ".join([w] * n), st.sampled_from(KNOWN), st.integers(1, 200)),
    st.just("x" * 20_000),
)


def _check_match(matcher: IntentMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.intent is None or result.intent in matcher.intent_names
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.slots.items())
    result.to_dict()


MATCH_FAST = settings(max_examples=2_000, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
MATCH_SLOW = settings(max_examples=100_000, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip


@MATCH_FAST
@given(text=adversarial)
def test_matcher_never_raises(matcher: IntentMatcher, text: str) -> None:
    _check_match(matcher, text)


@pytest.mark.slow
@MATCH_SLOW
@given(text=adversarial)
def test_matcher_never_raises_100k(matcher: IntentMatcher, text: str) -> None:
    _check_match(matcher, text)


def whole_hold_unit(content: Content) -> int:
    holds = {s.hold_seconds for s in content.stretches.values()}
    holds |= {i.hold_seconds for r in content.routines.values() for i in r.items if i.hold_seconds}
    holds.add(content.timing.hold_seconds)
    return reduce(math.gcd, holds)


def check_records(records: Iterable[Record], unit: int) -> None:
    for record in records:
        if record.kind == "status":
            s = record.data
            assert s["state"] in STATES, s
            assert s["remaining_seconds"] is None or s["remaining_seconds"] >= 0, s
            assert 0.0 <= s["progress"] <= 1.0, s
            assert isinstance(s["paused"], bool)
        elif record.kind == "ended":
            for seconds in record.data["held"].values():
                assert seconds > 0 and seconds % unit == 0, record.data  # whole holds only
        elif record.kind == "say":
            assert isinstance(record.data, str) and record.data.strip()
            assert "{" not in record.data and "}" not in record.data, record.data


# Scripts mix real commands (so sessions run) with adversarial text at any moment.
script_lines = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=1200, allow_nan=False),
        st.one_of(st.sampled_from(KNOWN), st.sampled_from(KNOWN), adversarial),
    ),
    min_size=1,
    max_size=20,
)


def _run_script(content: Content, matcher: IntentMatcher, script: list[tuple[float, str]],
                style: str, first: bool) -> None:  # fmt: skip
    coach = Coach(content, CoachSettings(count_style=style, first_session=first))
    sim = Simulation(coach, matcher)
    lines = [ScriptLine(t, text) for t, text in script if text.strip()]
    records = sim.run(lines, until=2400)
    check_records(records, whole_hold_unit(content))
    status = coach.status(sim._now)
    assert status["state"] in STATES


SIM_FAST = settings(max_examples=600, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))  # fmt: skip
SIM_SLOW = settings(max_examples=10_000, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))  # fmt: skip
styles = st.sampled_from(["every-second", "marks", "quiet"])


@SIM_FAST
@given(script=script_lines, style=styles, first=st.booleans())
def test_coach_survives_adversarial_scripts(
    content: Content, matcher: IntentMatcher, script: list[tuple[float, str]], style: str,
    first: bool,
) -> None:  # fmt: skip
    _run_script(content, matcher, script, style, first)


@pytest.mark.slow
@SIM_SLOW  # 10,000 scripts of 1-20 lines: about 100,000 utterances
@given(script=script_lines, style=styles, first=st.booleans())
def test_coach_survives_adversarial_scripts_100k(
    content: Content, matcher: IntentMatcher, script: list[tuple[float, str]], style: str,
    first: bool,
) -> None:  # fmt: skip
    _run_script(content, matcher, script, style, first)


# Events the matcher would never produce: any handled intent with any slots, stray timers and
# speech events for utterances that never existed, time going backwards.
slot_values = st.one_of(st.text(max_size=20), st.sampled_from(
    ["quick", "full", "pigeon_pose", "butterfly", "psoas", "faster", "slower", "every-second",
     "marks", "quiet", "", "-1", "0", "999999", "nan"]))  # fmt: skip
slot_names = st.sampled_from(["routine", "stretch", "topic", "rate", "style", "direction",
                              "seconds", "number", "question", "x"])  # fmt: skip
raw_events = st.lists(
    st.one_of(
        st.builds(
            lambda t, i, s: Heard(t, "fuzz", i, s),
            st.floats(0, 3000),
            st.sampled_from(sorted(handled_intents()) + [None, "Nope"]),
            st.dictionaries(slot_names, slot_values, max_size=3),
        ),  # fmt: skip
        st.builds(
            TimerFired,
            st.floats(0, 3000),
            st.sampled_from(["step", "hold", "rest", "switch", "cue", "tick", "bogus"]),
        ),  # fmt: skip
        st.builds(SpeechFinished, st.floats(0, 3000), st.integers(-5, 500), st.booleans()),
        st.builds(SpeechStarted, st.floats(0, 3000), st.integers(-5, 500)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(events=raw_events)
def test_coach_survives_raw_event_soup(content: Content, events: list) -> None:  # type: ignore[type-arg]
    coach = Coach(content, CoachSettings())
    for event in events:
        commands = coach.handle(event)
        for command in commands:
            status = getattr(command, "status", None)
            if status is not None:
                assert status["state"] in STATES
                assert 0.0 <= status["progress"] <= 1.0
                rem = status["remaining_seconds"]
                assert rem is None or rem >= 0
