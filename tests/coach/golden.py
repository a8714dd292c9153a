"""Golden transcripts: a script of timed utterances in, the exact spoken lines out."""

from __future__ import annotations

from pathlib import Path

from content.model import Content
from intents.matcher import IntentMatcher
from voice.coach.machine import Coach, CoachSettings
from voice.simulate import format_transcript, parse_script, simulate

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"


def settings_from(script: str) -> CoachSettings:
    settings = CoachSettings()
    for line in script.splitlines():
        if line.startswith("# settings:"):
            for pair in line.split(":", 1)[1].split():
                key, value = pair.split("=")
                if key == "first_session":
                    settings.first_session = value == "true"
                elif key == "count_style":
                    settings.count_style = value
    return settings


def transcript(path: Path, content: Content, matcher: IntentMatcher) -> str:
    script = path.read_text(encoding="utf-8")
    coach = Coach(content, settings_from(script))
    records = simulate(coach, matcher, parse_script(script, path.name))
    return format_transcript(records, heard=True) + "\n"
