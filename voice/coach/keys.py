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
