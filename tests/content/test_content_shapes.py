"""Checks added for issue 9 (bad content): response placeholders, YAML anchors and aliases,
sentence-file references and rule cycles, FAQ questions as templates, tests/*.yaml shapes,
and `run`'s matcher refusing what `content check` refuses."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from content import default_dir
from content.check import check_all, check_sentence_files, placeholder_problems
from content.errors import Problem
from content.loader import load_content, read_yaml
from voice.appcontent import get_content, get_matcher
from voice.coach.keys import PLACEHOLDERS, RESPONSE_KEYS
from voice.coach.machine import handled_intents
from voice.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def copy(tmp_path: Path) -> Path:
    target = tmp_path / "en"
    shutil.copytree(default_dir(), target)
    return target


def problems_for(directory: Path) -> list[str]:
    content = load_content(directory)
    found = check_all(content, handled_intents(), RESPONSE_KEYS, PLACEHOLDERS)
    return [str(p).replace(f"{directory}/", "") for p in found]


# -- placeholders ------------------------------------------------------------------------------


def test_placeholders_cover_exactly_the_response_keys() -> None:
    assert set(PLACEHOLDERS) == RESPONSE_KEYS


def _literal_lines(path: Path) -> list[tuple[int, str, set[str]]]:
    """Line("key", {"field": ...}) calls with a literal key and a literal dict of fields."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Line"):
            continue
        if len(node.args) < 2 or not isinstance(node.args[0], ast.Constant):
            continue
        fields = node.args[1]
        if isinstance(fields, ast.Dict):
            keys = {k.value for k in fields.keys if isinstance(k, ast.Constant)}
            out.append((node.lineno, str(node.args[0].value), keys))
    return out


def test_placeholders_match_what_the_coach_fills() -> None:
    sources = [*sorted((ROOT / "voice" / "coach").rglob("*.py")), ROOT / "voice/store/answers.py"]
    seen = 0
    for path in sources:
        for line, key, fields in _literal_lines(path):
            seen += 1
            assert fields == PLACEHOLDERS[key], f"{path.name}:{line}: {key} gets {fields}"
    assert seen > 15


def test_shipped_responses_render_with_the_filled_fields() -> None:
    content = load_content()
    for key, variants in content.responses.items():
        fields = {name: "x" for name in PLACEHOLDERS[key]}
        for text in variants:
            text.format_map(fields)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Hold {seconds.real}", "not a plain name"),
        ("Hold {0}", "not a plain name"),
        ("Hold {}", "not a plain name"),
        ("Hold {seconds!x}", "unknown conversion"),
        ("Hold {seconds:>5}", "format spec"),
        ("Hold {seconds", "broken placeholder"),
        ("Hold }", "broken placeholder"),
        ("Hold {minutes}", "unknown placeholder {minutes}"),
    ],
)
def test_placeholder_problems(text: str, reason: str) -> None:
    found = placeholder_problems(text, {"seconds"})
    assert found and reason in found[0], found


def test_literal_braces_and_known_fields_are_fine() -> None:
    assert placeholder_problems("Hold {seconds} {{not a field}}", {"seconds"}) == []


def test_run_refuses_a_placeholder_the_coach_does_not_fill(tmp_path: Path) -> None:
    target = copy(tmp_path)
    path = target / "responses.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("{seconds} seconds left.", "{secs} left.", 1),
        encoding="utf-8",
    )
    with pytest.raises(UserError) as caught:
        get_content(target)
    assert "responses.yaml" in str(caught.value) and "{secs}" in str(caught.value)


# -- YAML anchors and aliases ------------------------------------------------------------------


def test_anchors_and_aliases_are_refused_but_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb: &x [1, 2]\nc: *x\nd: text\n", encoding="utf-8")
    problems: list[Problem] = []
    data = read_yaml(path, problems)
    assert [str(p) for p in problems] == [f"{path}: line 2: anchors and aliases are not allowed"]
    assert data == {"a": 1, "b": [1, 2], "c": None, "d": "text"}


def test_deep_nesting_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    problems: list[Problem] = []
    assert read_yaml(path, problems) is None
    assert len(problems) == 1 and "invalid YAML" in problems[0].reason


def test_a_missing_file_is_not_also_called_empty(tmp_path: Path) -> None:
    target = copy(tmp_path)
    (target / "faq.yaml").unlink()
    with pytest.raises(Exception) as caught:
        load_content(target)
    assert "file is missing" in str(caught.value)
    assert "file is empty" not in str(caught.value)


# -- sentence files ----------------------------------------------------------------------------


def write_sentences(target: Path, body: str) -> None:
    (target / "sentences" / "zz.yaml").write_text("language: en\n" + body, encoding="utf-8")


def test_rule_naming_an_unknown_rule(tmp_path: Path) -> None:
    target = copy(tmp_path)
    write_sentences(target, "expansion_rules:\n  halt: '(halt|<nowhere>)'\n")
    assert "sentences/zz.yaml: expansion_rules.halt: unknown rule <nowhere>" in problems_for(target)


def test_rule_that_contains_itself(tmp_path: Path) -> None:
    target = copy(tmp_path)
    write_sentences(target, "expansion_rules:\n  a: '(x|<b>)'\n  b: '[y] <a>'\n")
    found = problems_for(target)
    assert "sentences/zz.yaml: expansion_rules.a: rule <a> contains itself" in found
    assert "sentences/zz.yaml: expansion_rules.b: rule <b> contains itself" in found


def test_faq_question_naming_an_unknown_list(tmp_path: Path) -> None:
    target = copy(tmp_path)
    path = target / "faq.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("questions:\n", "questions:\n      - what about {foo}\n", 1))
    assert "faq.yaml: faq[0].questions[0]: unknown list {foo}" in problems_for(target)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("settings: {}\n", "settings: unknown field"),
        ("intents:\n  Pause:\n    datas: []\n", "intents.Pause.datas: unknown field"),
        ("intents:\n  Pause:\n    data: [5]\n", "intents.Pause.data[0]: expected a mapping"),
        ("intents:\n  Pause:\n    data:\n      - sentences: [pause]\n        slots: 3\n",
         "intents.Pause.data[0].slots: expected a mapping"),
        ("lists:\n  foo: {values: [a], range: {from: 1, to: 2}}\n", "lists.foo: expected exactly"),
        ("lists:\n  foo: {range: {from: one, to: 2}}\n", "lists.foo.range.from: expected a whole"),
        ("lists:\n  foo: {values: [{out: 1}]}\n", "lists.foo.values[0]: expected text"),
        ("expansion_rules:\n  r: 5\n", "expansion_rules.r: expected non-empty text"),
        ("expansion_rules:\n  r: '(a|b'\n", "expansion_rules.r: bad rule"),
        ("skip_words: um\n", "skip_words: expected a non-empty list"),
    ],
)  # fmt: skip
def test_sentence_file_shapes(tmp_path: Path, body: str, expected: str) -> None:
    target = copy(tmp_path)
    write_sentences(target, body)
    found = problems_for(target)
    assert any(p.startswith(f"sentences/zz.yaml: {expected}") for p in found), found


def test_run_refuses_an_unknown_list_naming_file_and_field(tmp_path: Path) -> None:
    target = copy(tmp_path)
    write_sentences(target, "intents:\n  Pause:\n    data:\n      - sentences: ['hold {foo}']\n")
    with pytest.raises(UserError) as caught:
        get_matcher(target)
    assert caught.value.exit_code == 2
    assert "zz.yaml: intents.Pause.data[0].sentences[0]: unknown list {foo}" in str(caught.value)


def test_shipped_sentence_files_pass() -> None:
    assert check_sentence_files(load_content()) == []


# -- tests/*.yaml ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("tests:\n  - sentences: [pause]\n    intent: Pause\n", "tests[0].intent: expected a"),
        ("tests:\n  - sentences: pause\n    intent: {name: Pause}\n", "tests[0].sentences:"),
        ("tests:\n  - sentences: [pause]\n    intent: {name: Pause, slot: 1}\n",
         "tests[0].intent.slot: unknown field"),
        ("no_intent: [5]\n", "no_intent[0]: expected non-empty text"),
        ("", "<top>: file is empty"),
    ],
)  # fmt: skip
def test_test_file_shapes(tmp_path: Path, body: str, expected: str) -> None:
    target = copy(tmp_path)
    (target / "tests" / "zz.yaml").write_text(body, encoding="utf-8")
    found = problems_for(target)
    assert any(p.startswith(f"tests/zz.yaml: {expected}") for p in found), found
    assert not any("no test sentence" in p for p in found), found
