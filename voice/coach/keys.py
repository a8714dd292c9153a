"""Every response key the coach speaks. `content check` holds responses.yaml to this set."""

RESPONSE_KEYS = frozenset(
    """after_pain already_paused already_running back_to_hold commands_hint confirm_stop
    count_every_second count_marks count_quiet count_unchanged cue_count cue_halfway
    cue_halfway_remaining cue_remaining faq_unknown first_stretch help_idle help_session
    hold_end hold_start last_stretch next_stretch no_session not_paused nothing_to_repeat pain
    paused paused_hold previous_stretch rate_faster rate_slower rest resumed resumed_hold
    routine_intro safety_note side_start single_stretch_intro start_over stop_cancelled
    stretch_intro stretch_session_intro summary summary_partial summary_stretch switch_sides
    time_left_hold time_left_paused time_left_rest time_left_session warm_up
    history_week history_week_none history_streak history_streak_none history_last
    history_never history_behind resume_offer resume_continue resume_continue_hold
    resume_declined microphone_lost microphone_back""".split()
)

_SECONDS = frozenset({"seconds"})
_WEEK = frozenset({"count", "times", "days"})  # voice/store/answers.py week_count_fields

# The fields the coach fills in for each response key (every other key gets none), so that
# `content check` and `run` refuse a variant naming a placeholder the coach never fills.
# Kept in step with the Line("key", {...}) calls in voice/coach/ and voice/store/answers.py.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    **{key: frozenset() for key in RESPONSE_KEYS},
    "already_running": frozenset({"routine"}),
    "previous_stretch": frozenset({"stretch"}),
    "start_over": frozenset({"stretch"}),
    "time_left_paused": _SECONDS,
    "time_left_hold": _SECONDS,
    "time_left_rest": _SECONDS,
    "time_left_session": frozenset({"number", "count", "minutes"}),
    "paused_hold": _SECONDS,
    # Coach.resume_clock gives every line it says the seconds left.
    "back_to_hold": _SECONDS,
    "resumed": _SECONDS,
    "resumed_hold": _SECONDS,
    # Count cues (voice/coach/counting.py): Line(cue.key, {"seconds": ...}).
    "cue_count": _SECONDS,
    "cue_remaining": _SECONDS,
    "cue_halfway": _SECONDS,
    "cue_halfway_remaining": _SECONDS,
    "summary": frozenset({"routine", "count", "hold_total"}),
    "summary_stretch": frozenset({"stretch", "hold_total"}),
    "summary_partial": frozenset({"done", "count"}),
    "stretch_session_intro": frozenset({"stretch", "minutes"}),
    "routine_intro": frozenset({"routine", "count", "minutes"}),
    "single_stretch_intro": frozenset({"stretch"}),
    "stretch_intro": frozenset({"number", "count", "stretch"}),
    "hold_start": _SECONDS,
    "side_start": frozenset({"side", "side_line"}),
    "rest": frozenset({"seconds", "next"}),
    "resume_offer": frozenset({"routine", "stretch"}),
    "resume_continue": frozenset({"stretch"}),
    "resume_continue_hold": frozenset({"stretch", "side", "seconds"}),
    "history_week": _WEEK,
    "history_week_none": _WEEK,
    "history_behind": _WEEK,
    "history_streak": frozenset({"days", "days_in_a_row"}),
    "history_streak_none": frozenset({"days", "days_in_a_row"}),
    "history_last": frozenset({"when", "days_ago", "routine", "completed"}),
}
