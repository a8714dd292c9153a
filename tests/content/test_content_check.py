"""`content check` passes on the shipped content and names file and field for broken sets."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from content import default_dir

Breaker = Callable[[Path], None]


def run_check(directory: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "voice", "content", "check"] + (
        [str(directory)] if directory else []
    )
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def replace(name: str, old: str, new: str) -> Breaker:
    def breaker(d: Path) -> None:
        path = d / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"fixture text {old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return breaker


def write_bytes(name: str, data: bytes) -> Breaker:
    def breaker(d: Path) -> None:
        (d / name).write_bytes(data)

    return breaker


BROKEN: dict[str, tuple[Breaker, str]] = {
    "invalid_yaml": (
        write_bytes("stretches.yaml", b"stretches: [\n  - id: x\n    name: : :\n"),
        "stretches.yaml: line",
    ),
    "invalid_utf8": (
        write_bytes("faq.yaml", b"faq:\n  - id: \xff\xfe\n"),
        "faq.yaml: <top>: not valid UTF-8",
    ),
    "empty_file": (write_bytes("routines.yaml", b""), "routines.yaml: <top>: file is empty"),
    "missing_field": (
        replace("stretches.yaml", "    position: Lie flat", "    posture: Lie flat"),
        "stretches[1].position: missing",
    ),
    "wrong_type": (
        replace(
            "stretches.yaml",
            "hold_seconds: 30\n    sides: none",
            "hold_seconds: thirty\n    sides: none",
        ),
        "stretches[3].hold_seconds: expected whole seconds",
    ),
    "zero_hold": (
        replace("stretches.yaml", "hold_seconds: 30", "hold_seconds: 0"),
        "stretches[0].hold_seconds: 0 is out of range",
    ),
    "negative_hold": (
        replace("routines.yaml", "  hold_seconds: 30", "  hold_seconds: -5"),
        "timing.hold_seconds: -5 is out of range",
    ),
    "unknown_stretch": (
        replace("routines.yaml", "- stretch: butterfly", "- stretch: handstand"),
        "routines[1].stretches[3].stretch: unknown stretch id 'handstand'",
    ),
    "duplicate_id": (
        replace("stretches.yaml", "id: pigeon_pose", "id: butterfly"),
        "duplicate id 'butterfly'",
    ),
    "empty_steps": (
        replace(
            "stretches.yaml",
            "    steps:\n      - Hold your feet with your hands.\n      - Let your knees sink gently toward the floor.\n      - Keep your back straight and lean forward a little to go deeper.\n",
            "    steps: []\n",
        ),
        "stretches[3].steps: expected a non-empty list",
    ),
    "missing_response": (
        replace("responses.yaml", "  pain:\n", "  pains:\n"),
        "responses.pain: missing",
    ),
    "bad_template": (
        write_bytes(
            "sentences/zz.yaml",
            b"language: en\nintents:\n  Pause:\n    data:\n      - sentences: ['(halt|freeze[[ now']\n",
        ),
        "zz.yaml: intents.Pause.data[0].sentences[0]: bad template",
    ),
    "unhandled_intent": (
        write_bytes(
            "sentences/zz.yaml",
            b"language: en\nintents:\n  Dance:\n    data:\n      - sentences: [dance]\n",
        ),
        "zz.yaml: intents.Dance: no coach handler",
    ),
    "spoken_not_a_flag": (
        replace("sentences/control.yaml", "          spoken: false", "          spoken: nope"),
        "control.yaml: intents.Stop.data[1].metadata.spoken: expected true or false",
    ),
    "spoken_rule_narrows_nothing": (
        replace("sentences/_common.yaml", "  ow@spoken:", "  oww@spoken:"),
        "_common.yaml: expansion_rules.oww@spoken: no rule <oww> to narrow",
    ),
    "intent_never_spoken": (
        write_bytes(
            "sentences/zz.yaml",
            b"language: en\nintents:\n  Dance:\n    data:\n"
            b"      - sentences: [dance]\n        metadata: {spoken: false}\n",
        ),
        "zz.yaml: intents.Dance: every block is 'spoken: false'",
    ),
    "huge_file": (write_bytes("faq.yaml", b"# " + b"x" * 1_100_000), "faq.yaml: <top>: file is"),
    "missing_file": (lambda d: (d / "faq.yaml").unlink(), "faq.yaml: <top>: file is missing"),
}


def test_shipped_content_passes() -> None:
    done = run_check()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("content ok:")


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_content_exits_2_with_file_and_field(case: str, tmp_path: Path) -> None:
    target = tmp_path / "en"
    shutil.copytree(default_dir(), target)
    breaker, expected = BROKEN[case]
    breaker(target)
    done = run_check(target)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert expected in done.stderr, done.stderr


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    done = run_check(tmp_path / "nowhere")
    assert done.returncode == 2
    assert "content directory does not exist" in done.stderr
