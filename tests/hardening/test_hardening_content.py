"""Bad content (issue 9, part 1): every broken set makes BOTH `content check` and
`run --text --content DIR` exit 2 with a message naming the file and the field, never a
traceback and never a hang.

Complements tests/content/test_content_check.py (which covers invalid YAML, invalid UTF-8 in
faq.yaml, empty and missing files, a missing field, a word for a number, zero and negative
holds, unknown and duplicate ids, empty steps, a missing response, a bad template, an
unhandled intent and an oversized faq.yaml): nothing here repeats those cases.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from content import default_dir
from tests.hardening.helpers import cli_child, cli_inprocess, describe

Breaker = Callable[[Path], None]


def replace(name: str, old: str, new: str) -> Breaker:
    def breaker(d: Path) -> None:
        path = d / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"fixture text {old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return breaker


def write(name: str, data: str | bytes) -> Breaker:
    def breaker(d: Path) -> None:
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
        (d / name).write_bytes(raw)

    return breaker


def append(name: str, text: str) -> Breaker:
    def breaker(d: Path) -> None:
        path = d / name
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    return breaker


def sentences(body: str) -> Breaker:
    return write("sentences/zz.yaml", "language: en\n" + body)


KNEELING_SIDE_LINES = (
    "    side_lines:\n      left: Left knee down, right foot in front.\n"
    "      right: Right knee down, left foot in front.\n"
)
QUICK_STRETCHES = "    stretches:\n      - stretch: kneeling_lunge\n      - stretch: supine_psoas\n"

# name -> (breaker, substrings that must all appear on stderr: the file and the field)
CASES: dict[str, tuple[Breaker, tuple[str, ...]]] = {
    # -- wrong top-level shape, in every file --------------------------------------------------
    "stretches_top_is_list": (
        write("stretches.yaml", "- a\n- b\n"),
        ("stretches.yaml", "<top>: expected a mapping, got a list"),
    ),
    "stretches_top_is_text": (
        write("stretches.yaml", "hello\n"),
        ("stretches.yaml", "<top>: expected a mapping, got text"),
    ),
    "routines_top_is_list": (
        write("routines.yaml", "- quick\n"),
        ("routines.yaml", "<top>: expected a mapping"),
    ),
    "faq_top_is_list": (write("faq.yaml", "- a\n"), ("faq.yaml", "<top>: expected a mapping")),
    "responses_top_is_list": (
        write("responses.yaml", "- a\n"),
        ("responses.yaml", "<top>: expected a mapping"),
    ),
    "responses_table_is_list": (
        write("responses.yaml", "responses: [a, b]\n"),
        ("responses.yaml", "responses: expected a mapping"),
    ),
    "stretches_list_is_mapping": (
        write("stretches.yaml", "stretches: {a: 1}\n"),
        ("stretches.yaml", "stretches: expected a non-empty list"),
    ),
    "stretch_entry_is_text": (
        replace("stretches.yaml", "  - id: pigeon_pose", "  - just a string\n  - id: pigeon_pose"),
        ("stretches.yaml", "stretches[2]: expected a mapping, got text"),
    ),
    # -- wrong types of fields -------------------------------------------------------------------
    "name_is_number": (
        replace("stretches.yaml", "name: kneeling lunge", "name: 12"),
        ("stretches.yaml", "stretches[0].name: expected non-empty text, got the number 12"),
    ),
    "aliases_is_text": (
        replace(
            "stretches.yaml", "aliases: [pigeon, pigeon stretch, yoga pigeon]", "aliases: pigeon"
        ),
        ("stretches.yaml", "stretches[2].aliases: expected a non-empty list, got text"),
    ),
    "step_is_mapping": (
        replace(
            "stretches.yaml",
            "      - Bring one knee forward",
            "      - {a: 1}\n      - Bring one knee forward",
        ),
        ("stretches.yaml", "stretches[2].steps[0]: expected non-empty text, got a mapping"),
    ),
    "hold_is_float": (
        replace("stretches.yaml", "hold_seconds: 30", "hold_seconds: 30.5"),
        ("stretches.yaml", "stretches[0].hold_seconds: expected whole seconds"),
    ),
    "hold_is_boolean": (
        replace("stretches.yaml", "hold_seconds: 30", "hold_seconds: yes"),
        ("stretches.yaml", "stretches[0].hold_seconds: expected whole seconds, got a boolean"),
    ),
    "hold_is_huge": (
        replace("stretches.yaml", "hold_seconds: 30", "hold_seconds: 99999999999999999999999"),
        ("stretches.yaml", "stretches[0].hold_seconds:", "out of range"),
    ),
    "sides_is_list": (
        replace("stretches.yaml", "sides: both", "sides: [left]"),
        ("stretches.yaml", "stretches[0].sides: expected 'both' or 'none'"),
    ),
    "id_not_snake_case": (
        replace("stretches.yaml", "id: pigeon_pose", "id: Pigeon Pose"),
        ("stretches.yaml", "stretches[2].id:", "is not a snake_case id"),
    ),
    "timing_is_list": (
        replace("routines.yaml", "timing:\n", "timing: [1]\nold_timing:\n"),
        ("routines.yaml", "timing: expected a mapping, got a list"),
    ),
    "routine_stretch_is_number": (
        replace("routines.yaml", "- stretch: supine_psoas", "- stretch: 5"),
        (
            "routines.yaml",
            "routines[0].stretches[1].stretch: expected non-empty text, got the number 5",
        ),
    ),
    "routine_rest_is_text": (
        replace("routines.yaml", "rest_seconds: 20", "rest_seconds: twenty"),
        ("routines.yaml", "routines[1].rest_seconds: expected whole seconds"),
    ),
    "faq_topics_is_text": (
        replace(
            "faq.yaml", "topics: [psoas, iliopsoas, psoas muscle, psoas major]", "topics: psoas"
        ),
        ("faq.yaml", "faq[0].topics: expected a non-empty list, got text"),
    ),
    "faq_answer_is_list": (
        replace("faq.yaml", "answer: >-", "answer: [a]\n    old_answer: >-"),
        ("faq.yaml", "faq[0].answer: expected non-empty text, got a list"),
    ),
    "response_variant_is_number": (
        replace("responses.yaml", "  pain:\n", "  pain:\n    - 5\n"),
        ("responses.yaml", "responses.pain[0]: expected non-empty text, got the number 5"),
    ),
    # -- structure -------------------------------------------------------------------------------
    "sides_both_without_side_lines": (
        replace("stretches.yaml", KNEELING_SIDE_LINES, ""),
        ("stretches.yaml", "stretches[0].side_lines"),
    ),
    "routine_without_stretches": (
        replace("routines.yaml", QUICK_STRETCHES, ""),
        ("routines.yaml", "routines[0].stretches: missing"),
    ),
    "routine_with_empty_stretches": (
        replace("routines.yaml", QUICK_STRETCHES, "    stretches: []\n"),
        ("routines.yaml", "routines[0].stretches: expected a non-empty list"),
    ),
    "unknown_field_in_routine": (
        replace("routines.yaml", "rest_seconds: 20", "rest_seconds: 20\n    colour: red"),
        ("routines.yaml", "routines[1].colour: unknown field"),
    ),
    "unknown_top_key_routines": (
        append("routines.yaml", "\nextra: 1\n"),
        ("routines.yaml", "extra: unknown field"),
    ),
    "unknown_top_key_stretches": (
        append("stretches.yaml", "\nstretchez: []\n"),
        ("stretches.yaml", "stretchez: unknown field"),
    ),
    "unknown_top_key_faq": (
        append("faq.yaml", "\nfaqs: []\n"),
        ("faq.yaml", "faqs: unknown field"),
    ),
    "unknown_top_key_responses": (
        append("responses.yaml", "\nreponses: {}\n"),
        ("responses.yaml", "reponses: unknown field"),
    ),
    "duplicate_faq_topic": (
        replace(
            "faq.yaml",
            "topics: [psoas, iliopsoas, psoas muscle, psoas major]",
            "topics: [psoas, iliopsoas, psoas muscle, psoas major, stretching]",
        ),
        ("faq.yaml", ".topics: topic"),
    ),
    # -- response placeholders ---------------------------------------------------------------------
    "response_unknown_placeholder": (
        replace("responses.yaml", "Let's start the {routine}.", "Let's start the {nonsense}."),
        ("responses.yaml", "responses.routine_intro", "nonsense"),
    ),
    "response_broken_placeholder": (
        replace("responses.yaml", "Let's start the {routine}.", "Let's start the {routine."),
        ("responses.yaml", "responses.routine_intro"),
    ),
    # -- sentence files ----------------------------------------------------------------------------
    "sentences_invalid_utf8": (
        write(
            "sentences/zz.yaml",
            b"language: en\nintents:\n  Pause:\n    data:\n      - sentences: ['\xff\xfe']\n",
        ),
        ("zz.yaml", "not valid UTF-8"),
    ),
    "sentences_top_is_list": (
        write("sentences/zz.yaml", "- a\n"),
        ("zz.yaml", "expected a mapping"),
    ),
    "sentences_empty_file": (write("sentences/zz.yaml", ""), ("zz.yaml",)),
    "sentences_huge_file": (
        write("sentences/zz.yaml", b"# " + b"x" * 1_100_000),
        ("zz.yaml", "over the 1000000 limit"),
    ),
    "sentences_intents_is_list": (sentences("intents: [Pause, Stop]\n"), ("zz.yaml", "intents")),
    "sentences_intent_is_list": (
        sentences("intents:\n  Pause: [freeze]\n"),
        ("zz.yaml", "intents.Pause"),
    ),
    "sentences_data_is_number": (
        sentences("intents:\n  Pause:\n    data: 5\n"),
        ("zz.yaml", "intents.Pause.data"),
    ),
    "sentences_template_is_number": (
        sentences("intents:\n  Pause:\n    data:\n      - sentences: [5]\n"),
        ("zz.yaml", "intents.Pause.data[0].sentences[0]"),
    ),
    "sentences_unknown_list": (
        sentences("intents:\n  Pause:\n    data:\n      - sentences: ['freeze {foo}']\n"),
        ("zz.yaml", "intents.Pause.data[0].sentences[0]", "{foo}"),
    ),
    "sentences_unknown_rule": (
        sentences("intents:\n  Pause:\n    data:\n      - sentences: ['freeze <bar>']\n"),
        ("zz.yaml", "intents.Pause.data[0].sentences[0]", "<bar>"),
    ),
    "sentences_list_values_not_list": (
        sentences(
            "lists:\n  foo: {values: 7}\nintents:\n  Pause:\n    data:\n      - sentences: ['freeze {foo}']\n"
        ),
        ("zz.yaml", "lists.foo"),
    ),
    # -- sentence test files (content check only: `run` does not read them) -------------------
    "tests_entry_is_number": (
        write("tests/zz.yaml", "tests: [5]\n"),
        ("tests/zz.yaml", "tests[0]"),
    ),
    "tests_top_is_list": (write("tests/zz.yaml", "- a\n"), ("tests/zz.yaml", "<top>")),
}

CHECK_ONLY = {"tests_entry_is_number", "tests_top_is_list", "duplicate_faq_topic"}


def bug(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"BUG: {reason}")


# Every bug pinned here is fixed; a new one goes in as `name: bug("...")` (a strict xfail).
CHECK_BUGS: dict[str, pytest.MarkDecorator] = {}
RUN_BUGS: dict[str, pytest.MarkDecorator] = {}


def _params(bugs: dict[str, pytest.MarkDecorator], skip: set[str] = frozenset()) -> list:  # type: ignore[assignment,type-arg]
    return [
        pytest.param(name, marks=[bugs[name]] if name in bugs else [], id=name)
        for name in sorted(CASES)
        if name not in skip
    ]


def broken_copy(tmp_path: Path, case: str) -> Path:
    target = tmp_path / "en"
    shutil.copytree(default_dir(), target)
    CASES[case][0](target)
    return target


def assert_clean_exit_2(outcome, expected: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    assert outcome.clean, describe(outcome)
    assert outcome.code == 2, describe(outcome)
    for part in expected:
        assert part in outcome.stderr, f"{part!r} not named:\n{describe(outcome)}"


@pytest.mark.parametrize("case", _params(CHECK_BUGS))
def test_content_check_exits_2_naming_file_and_field(case: str, tmp_path: Path) -> None:
    directory = broken_copy(tmp_path, case)
    outcome = cli_inprocess(["content", "check", str(directory)])
    assert_clean_exit_2(outcome, CASES[case][1])


RUN_STDIN = "start the quick routine\nhow long is left\nstop\nyes\n"


@pytest.mark.parametrize("case", _params(RUN_BUGS, CHECK_ONLY))
def test_run_exits_2_naming_file_and_field(case: str, tmp_path: Path) -> None:
    directory = broken_copy(tmp_path, case)
    argv = ["run", "--text", "--silent", "--returning", "--no-history", "--time-scale", "50"]
    argv += ["--content", str(directory)]
    outcome = cli_inprocess(argv, stdin=RUN_STDIN)
    assert_clean_exit_2(outcome, CASES[case][1])


# -- YAML bombs: aliases that expand to hundreds of millions of nodes ---------------------------

BOMB = "".join(
    f"x{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n"
    for i in range(9)
)  # 9**9 = 387 million leaves from 700 bytes: the byte-size guard does not see it


def _bomb_in_sides(d: Path) -> None:
    path = d / "stretches.yaml"
    text = path.read_text(encoding="utf-8").replace("sides: both", "sides: *l8", 1)
    path.write_text(BOMB + text, encoding="utf-8")


def _bomb_in_template(d: Path) -> None:
    (d / "sentences" / "zz.yaml").write_text(
        BOMB + "language: en\nintents:\n  Pause:\n    data:\n      - sentences: [*l8]\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize("where", ["template", pytest.param("sides", marks=pytest.mark.slow)])
def test_yaml_alias_bomb_is_refused_quickly(where: str, tmp_path: Path) -> None:
    target = tmp_path / "en"
    shutil.copytree(default_dir(), target)
    (_bomb_in_sides if where == "sides" else _bomb_in_template)(target)
    limit = 1_000_000_000  # the child dies with MemoryError long before the machine does
    run_argv = ["run", "--text", "--silent", "--returning", "--no-history", "--content"]
    with ThreadPoolExecutor(2) as pool:  # both children at once: the bug costs their timeout
        check_f = pool.submit(
            cli_child, ["content", "check", str(target)], timeout=8, max_memory=limit
        )
        run_f = pool.submit(
            cli_child, [*run_argv, str(target)], stdin="pause\n", timeout=8, max_memory=limit
        )
        check, run = check_f.result(), run_f.result()
    assert check.clean and check.code == 2, describe(check)
    assert "alias" in check.stderr.lower() or "anchor" in check.stderr.lower(), describe(check)
    assert run.clean and run.code == 2, describe(run)


def test_small_alias_bomb_in_an_ignored_key_is_harmless(tmp_path: Path) -> None:
    """Aliases that are never walked cost nothing: PyYAML shares the nodes, it does not copy."""
    target = tmp_path / "en"
    shutil.copytree(default_dir(), target)
    (target / "faq.yaml").write_text(BOMB, encoding="utf-8")
    outcome = cli_inprocess(["content", "check", str(target)])
    assert outcome.clean and outcome.code == 2, describe(outcome)
    assert "faq.yaml: faq: missing" in outcome.stderr
