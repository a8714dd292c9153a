"""Random scripts never crash the core and never make remaining_seconds negative."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content.model import Content
from intents.matcher import IntentMatcher
from voice.coach.machine import Coach, CoachSettings
from voice.simulate import ScriptLine, Simulation

UTTERANCES = [
    "start the quick routine", "start the full routine", "do the pigeon pose", "pause", "resume",
    "stop", "yes", "no", "next", "go back", "start over", "repeat", "how long is left", "help",
    "ouch", "what is the psoas", "how often should i stretch", "count every second",
    "count less", "quiet counting", "slower", "faster", "what's the weather", "blah blah",
    "start", "continue", "skip to the butterfly",
]  # fmt: skip

scripts = st.lists(
    st.tuples(st.floats(min_value=0, max_value=900, allow_nan=False), st.sampled_from(UTTERANCES)),
    max_size=25,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=scripts, style=st.sampled_from(["every-second", "marks", "quiet"]))
def test_random_scripts_keep_invariants(
    content: Content, matcher: IntentMatcher, script: list[tuple[float, str]], style: str
) -> None:
    coach = Coach(content, CoachSettings(count_style=style))
    sim = Simulation(coach, matcher)
    records = sim.run([ScriptLine(t, text) for t, text in script], until=1500)
    for record in records:
        if record.kind == "status":
            remaining = record.data["remaining_seconds"]
            assert remaining is None or remaining >= 0
            progress = record.data["progress"]
            assert 0.0 <= progress <= 1.0
            assert record.data["state"] in (
                "idle",
                "intro",
                "instruct",
                "hold",
                "switch",
                "rest",
                "finished",
            )
        if record.kind == "ended":
            for seconds in record.data["held"].values():
                assert (
                    seconds > 0 and seconds % 30.0 == 0
                )  # only whole holds count (repeats add up)
    # Left alone long enough, every session ends.
    assert coach.session is None or coach.session.paused
