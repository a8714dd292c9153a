"""Cross-checks loaded content: templates parse, every intent is handled, every response key
is used, every template has a test sentence and every test sentence gives what it says.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from content.errors import Problem
from content.loader import read_yaml
from content.model import Content


def check_responses(content: Content, used_keys: Iterable[str]) -> list[Problem]:
    file = str(content.directory / "responses.yaml")
    used = set(used_keys)
    problems = [
        Problem(file, f"responses.{k}", "missing (the coach speaks it)")
        for k in sorted(used - set(content.responses))
    ]
    problems += [
        Problem(file, f"responses.{k}", "never spoken by the coach")
        for k in sorted(set(content.responses) - used)
    ]
    return problems


def check_sentences(content: Content, handled: Iterable[str]) -> list[Problem]:
    # Imported here so that loading content never needs hassil.
    from intents.templates import build_intents, load_sentence_dicts

    problems: list[Problem] = []
    for path in content.sentence_files:
        problems += _parse_problems(path)
    if problems:
        return problems
    try:
        intents = build_intents(content)
        for intent in intents.intents.values():
            for block in intent.data:
                _ = block.sentences  # hassil parses templates lazily; make it parse them now
    except Exception as exc:  # hassil reports template errors with many exception types
        return [
            Problem(str(content.directory / "sentences"), "", f"templates do not combine: {exc}")
        ]
    handled_set = set(handled)
    for path, data in zip(
        content.sentence_files, load_sentence_dicts(content.sentence_files), strict=True
    ):
        for name in data.get("intents") or {}:
            if name not in handled_set:
                problems.append(
                    Problem(str(path), f"intents.{name}", "no coach handler for this intent")
                )
    for name in sorted(handled_set - set(intents.intents)):
        problems.append(
            Problem(
                str(content.directory / "sentences"), "", f"handled intent {name} has no template"
            )
        )
    return problems


def _parse_problems(path: Path) -> list[Problem]:
    from hassil import parse_sentence

    problems: list[Problem] = []
    data = read_yaml(path, problems)
    if problems:
        return problems
    if not isinstance(data, dict):
        return [Problem(str(path), "", "expected a mapping with 'language' and 'intents'")]
    for name, intent in (data.get("intents") or {}).items():
        if not isinstance(name, str):
            problems.append(
                Problem(str(path), f"intents.{name}", "intent name must be text (quote Yes/No)")
            )
        for i, block in enumerate((intent or {}).get("data") or []):
            for j, template in enumerate((block or {}).get("sentences") or []):
                try:
                    parse_sentence(template)
                except Exception as exc:  # hassil's parse errors have no common base class
                    where = f"intents.{name}.data[{i}].sentences[{j}]"
                    problems.append(Problem(str(path), where, f"bad template {template!r}: {exc}"))
    return problems


def check_tests(content: Content) -> list[Problem]:
    """Run every test sentence; report wrong results and templates no test sentence reaches."""
    from hassil import recognize_best

    from intents.normalize import normalize
    from intents.templates import build_intents, load_sentence_dicts

    intents = build_intents(content)
    problems: list[Problem] = []
    reached: set[str] = set()
    for path in content.test_files:
        data = read_yaml(path, problems) or {}
        for i, test in enumerate(data.get("tests") or []):
            expected = test.get("intent") or {}
            for sentence in test.get("sentences") or []:
                result = recognize_best(normalize(sentence), intents, language="en")
                where = f"tests[{i}]"
                template = result.intent_sentence if result is not None else None
                if template is not None and template.text:
                    reached.add(template.text)
                problems += _compare(str(path), where, sentence, expected, result)
        for sentence in data.get("no_intent") or []:
            result = recognize_best(normalize(sentence), intents, language="en")
            if result is not None:
                problems.append(
                    Problem(str(path), "no_intent", f"{sentence!r} gave {result.intent.name}")
                )
    for path, data in zip(
        content.sentence_files, load_sentence_dicts(content.sentence_files), strict=True
    ):
        for name, intent in (data.get("intents") or {}).items():
            for i, block in enumerate(intent.get("data") or []):
                for j, template in enumerate(block.get("sentences") or []):
                    if template not in reached:
                        where = f"intents.{name}.data[{i}].sentences[{j}]"
                        problems.append(
                            Problem(str(path), where, f"no test sentence for {template!r}")
                        )
    return problems


def _compare(
    file: str, where: str, sentence: str, expected: dict[str, Any], result: Any
) -> list[Problem]:
    want = expected.get("name")
    got = result.intent.name if result is not None else None
    if got != want:
        return [Problem(file, where, f"{sentence!r} gave {got}, expected {want}")]
    want_slots = {k: str(v) for k, v in (expected.get("slots") or {}).items()}
    got_slots = {k: str(e.value) for k, e in result.entities.items()} if result else {}
    if want_slots != got_slots:
        return [Problem(file, where, f"{sentence!r} gave slots {got_slots}, expected {want_slots}")]
    return []


def check_all(content: Content, handled: Iterable[str], used_keys: Iterable[str]) -> list[Problem]:
    problems = check_responses(content, used_keys) + check_sentences(content, handled)
    if not problems:
        problems += check_tests(content)
    return problems
