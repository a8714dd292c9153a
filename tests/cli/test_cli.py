"""The command line, run as a user would: data on stdout, clean errors, right exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def cli(
    *args: str, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voice", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip


def test_intent_prints_one_json_line_per_input() -> None:
    done = cli("intent", "start the quick routine", "what's the weather")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == [
        {
            "text": "start the quick routine",
            "intent": "StartRoutine",
            "slots": {"routine": "quick"},
        },
        {"text": "what's the weather", "intent": None, "slots": {}},
    ]


def test_intent_reads_stdin_lines_when_no_arguments() -> None:
    done = cli("intent", "--json", stdin="pause\nouch that hurts\n")
    assert [json.loads(x)["intent"] for x in done.stdout.splitlines()] == ["Pause", "ReportPain"]


def test_ask_answers_with_the_seed_facts() -> None:
    done = cli("ask", "how often should I do psoas stretches?")
    assert done.returncode == 0
    assert "three or four times a week" in done.stdout


def test_ask_says_what_it_can_answer_instead_of_guessing() -> None:
    done = cli("ask", "what is the capital of France?")
    assert "I can tell you about" in done.stdout


def test_simulate_full_routine_prints_the_whole_session(tmp_path: Path) -> None:
    script = tmp_path / "full.script"
    script.write_text("0 start the full routine\n", encoding="utf-8")
    done = cli("simulate", str(script))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for name in ("kneeling lunge", "supine psoas stretch", "pigeon pose", "butterfly stretch"):
        assert name in text
    assert (
        text.rstrip().splitlines()[-1].split("coach: ")[1].startswith(("Well done", "Great work"))
    )


def test_simulate_json_has_say_and_status_lines(tmp_path: Path) -> None:
    done = cli("simulate", "-", "--json", stdin="0 start the quick routine\n70 pause\n")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert any("say" in r for r in records)
    status = [r["status"] for r in records if "status" in r]
    assert status[-1]["paused"] is True and status[-1]["state"] == "hold"


def test_simulate_bad_script_is_one_clear_line(tmp_path: Path) -> None:
    script = tmp_path / "bad.script"
    script.write_text("soon start\n", encoding="utf-8")
    done = cli("simulate", str(script))
    assert done.returncode == 2
    assert "bad.script:1: expected '<seconds> <utterance>'" in done.stderr
    assert "Traceback" not in done.stderr
    missing = cli("simulate", str(tmp_path / "none.script"))
    assert missing.returncode == 2 and "no such script file" in missing.stderr


def test_run_text_speaks_a_whole_routine_from_typed_commands() -> None:
    done = cli("run", "--text", "--no-tts", "--time-scale", "60", "--returning",
               stdin="start the quick routine\n", timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Let's start the quick routine" in done.stdout or "Here we go" in done.stdout
    assert "supine psoas stretch" in done.stdout
    assert ("Well done" in done.stdout) or ("Great work" in done.stdout)
