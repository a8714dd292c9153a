"""Cross-checks loaded content: response placeholders are ones the coach fills, sentence files
have hassil's shape, templates parse and name only lists and rules that exist, every intent is
handled, every response key is used, every template has a test sentence and every test
sentence gives what it says.

What the coach speaks and handles is passed in (content never imports the coach).
"""

from __future__ import annotations

import string
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from content.errors import Problem
from content.fields import Fields
from content.loader import read_yaml
from content.model import Content

NEVER_SPOKEN = "never spoken by the coach"
CONTENT_LISTS = frozenset({"routine", "stretch", "topic"})  # intents.templates.content_lists
SENTENCE_KEYS = {"language", "intents", "lists", "expansion_rules", "skip_words"}
BLOCK_KEYS = {"sentences", "slots", "requires_context", "excludes_context", "metadata"}
TEST_KEYS = {"language", "tests", "no_intent"}
CONVERSIONS = (None, "r", "s", "a")


# -- responses ---------------------------------------------------------------------------------


def missing_responses(content: Content, used_keys: Iterable[str]) -> list[Problem]:
    file = str(content.directory / "responses.yaml")
    return [
        Problem(file, f"responses.{k}", "missing (the coach speaks it)")
        for k in sorted(set(used_keys) - set(content.responses))
    ]


def check_placeholders(
    content: Content, placeholders: Mapping[str, Collection[str]]
) -> list[Problem]:
    """Every {placeholder} in a variant must be one the coach fills for that key, so that a
    variant never fails when it is spoken. Keys missing from `placeholders` are not checked
    (they are reported as never spoken)."""
    file = str(content.directory / "responses.yaml")
    problems: list[Problem] = []
    for key, variants in content.responses.items():
        if key not in placeholders:
            continue
        for i, text in enumerate(variants):
            problems += [
                Problem(file, f"responses.{key}[{i}]", reason)
                for reason in placeholder_problems(text, placeholders[key])
            ]
    return problems


def placeholder_problems(text: str, allowed: Collection[str]) -> list[str]:
    """Why `text.format_map(fields)` could fail with the fields in `allowed`; [] if it cannot."""
    fills = (
        f"the coach fills {', '.join('{' + a + '}' for a in sorted(allowed))}"
        if allowed
        else "the coach fills none here; write {{ and }} for a literal brace"
    )
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [f"broken placeholder in {text!r}: {exc} ({fills})"]
    reasons: list[str] = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            reasons.append(f"placeholder {{{name}}} is not a plain name ({fills})")
        elif name not in allowed:
            reasons.append(f"unknown placeholder {{{name}}} ({fills})")
        elif conversion not in CONVERSIONS:
            reasons.append(f"placeholder {{{name}}} has an unknown conversion !{conversion}")
        elif spec:
            reasons.append(f"placeholder {{{name}}} has a format spec ({spec!r}); none is allowed")
    return reasons


def check_responses(
    content: Content,
    used_keys: Iterable[str],
    placeholders: Mapping[str, Collection[str]] | None = None,
) -> list[Problem]:
    file = str(content.directory / "responses.yaml")
    used = set(used_keys)
    problems = missing_responses(content, used)
    problems += [
        Problem(file, f"responses.{k}", NEVER_SPOKEN) for k in sorted(set(content.responses) - used)
    ]
    if placeholders is not None:
        problems += check_placeholders(content, placeholders)
    return problems


# -- sentence files ----------------------------------------------------------------------------


def check_sentence_files(content: Content) -> list[Problem]:
    """Each sentence file readable and shaped as hassil expects, every template parsing, the
    files combining into one set of intents, and every {list} and <rule> existing.
    `run` holds the sentence files to this before it builds its matcher."""
    # Imported here so that loading content never needs hassil.
    from hassil import Intents

    from intents.templates import sentence_dict_for

    problems: list[Problem] = []
    dicts: list[dict[str, Any]] = []
    parsed: dict[str, Any] = {}  # template -> hassil Sentence: each is parsed once
    for path in content.sentence_files:
        file_problems, data = _parse_problems(path, parsed)
        problems += file_problems
        dicts.append(data)
    problems += _faq_question_problems(content, parsed)
    if problems:
        return problems
    problems = _reference_problems(content, dicts, parsed)
    if problems:
        return problems
    try:  # every template already parses; this is what is left (lists, merging)
        Intents.from_dict(sentence_dict_for(content, dicts))
    except Exception as exc:  # hassil reports errors with many exception types
        return [
            Problem(str(content.directory / "sentences"), "", f"templates do not combine: {exc}")
        ]
    return []


def check_sentences(content: Content, handled: Iterable[str]) -> list[Problem]:
    from intents.templates import load_sentence_dicts

    problems = check_sentence_files(content)
    if problems:
        return problems
    handled_set = set(handled)
    names: set[str] = set()
    for path, data in zip(
        content.sentence_files, load_sentence_dicts(content.sentence_files), strict=True
    ):
        for name in data.get("intents") or {}:
            names.add(name)
            if name not in handled_set:
                problems.append(
                    Problem(str(path), f"intents.{name}", "no coach handler for this intent")
                )
    names.add("AskFaq")  # intents.templates adds every FAQ question to AskFaq
    for name in sorted(handled_set - names):
        problems.append(
            Problem(
                str(content.directory / "sentences"), "", f"handled intent {name} has no template"
            )
        )
    return problems


def _parse_problems(path: Path, parsed: dict[str, Any]) -> tuple[list[Problem], dict[str, Any]]:
    """Shape of one sentence file, and every template and rule in it parsing (into `parsed`);
    the file's data comes back with the problems."""
    f = Fields(str(path))
    data = read_yaml(path, f.problems)
    if f.problems:
        return f.problems, {}
    if data is None:
        f.problem("", "file is empty")
        return f.problems, {}
    top = f.mapping(data, "")
    f.unknown_keys(top, SENTENCE_KEYS, "")
    f.text(top, "language", "", required=False)
    f.texts(top, "skip_words", "", required=False)
    intents = f.mapping(top["intents"], "intents") if "intents" in top else {}
    for name, intent in intents.items():
        where = f"intents.{name}"
        if not isinstance(name, str):
            f.problem(where, "intent name must be text (quote Yes/No)")
            continue
        body = f.mapping(intent, where)
        if not body:
            continue
        f.unknown_keys(body, {"data"}, where)
        for i, block in enumerate(f.items(body, "data", where)):
            _block_problems(f, block, f"{where}.data[{i}]", parsed)
    lists = f.mapping(top["lists"], "lists") if "lists" in top else {}
    for name, value in lists.items():
        _list_problems(f, str(name), value)
    rules = f.mapping(top["expansion_rules"], "expansion_rules") if "expansion_rules" in top else {}
    for name, body in rules.items():
        where = f"expansion_rules.{name}"
        if not isinstance(name, str) or not name.strip():
            f.problem(where, "rule name must be text")
        elif f.text(rules, name, "expansion_rules"):
            _template_problem(f, where, body, "bad rule", parsed)
    return f.problems, top


def _block_problems(f: Fields, block: Any, where: str, parsed: dict[str, Any]) -> None:
    b = f.mapping(block, where)
    if not b:
        return
    f.unknown_keys(b, BLOCK_KEYS, where)
    f.texts(b, "sentences", where)  # reports the missing, the empty and the non-text
    templates = b.get("sentences")
    for j, template in enumerate(templates if isinstance(templates, list) else []):
        if isinstance(template, str) and template.strip():
            _template_problem(f, f"{where}.sentences[{j}]", template, "bad template", parsed)
    for key in ("slots", "requires_context", "excludes_context", "metadata"):
        if key in b:
            f.mapping(b[key], f"{where}.{key}")


def _template_problem(
    f: Fields, where: str, template: str, what: str, parsed: dict[str, Any]
) -> None:
    reason = _parse(template, parsed)
    if reason:
        f.problem(where, f"{what} {template!r}: {reason}")


def _parse(template: str, parsed: dict[str, Any]) -> str:
    """Parse a template into `parsed`; why it does not parse, or ''."""
    from hassil import parse_sentence

    if template not in parsed:
        try:
            parsed[template] = parse_sentence(template)
        except Exception as exc:  # hassil's parse errors have no common base class
            return str(exc) or type(exc).__name__
    return ""


def _list_problems(f: Fields, name: str, value: Any) -> None:
    where = f"lists.{name}"
    d = f.mapping(value, where)
    if not d:
        return
    kinds = [k for k in ("values", "range", "wildcard") if k in d]
    if len(kinds) != 1:
        f.problem(where, "expected exactly one of 'values', 'range' or 'wildcard'")
        return
    if kinds == ["wildcard"]:
        if d["wildcard"] is not True:
            f.problem(f"{where}.wildcard", "expected true")
        return
    if kinds == ["range"]:
        r = f.mapping(d["range"], f"{where}.range")
        for key in ("from", "to", "step"):
            v = r.get(key)
            if (key != "step" or v is not None) and (isinstance(v, bool) or not isinstance(v, int)):
                f.problem(f"{where}.range.{key}", "expected a whole number")
        return
    for i, item in enumerate(f.items(d, "values", where)):
        if isinstance(item, str) and item.strip():
            continue
        if isinstance(item, dict) and isinstance(item.get("in"), str) and item["in"].strip():
            continue
        f.problem(f"{where}.values[{i}]", "expected text, or a mapping with 'in' text and 'out'")


def _faq_question_problems(content: Content, parsed: dict[str, Any]) -> list[Problem]:
    """FAQ questions become AskFaq templates, so they must parse as templates too."""
    f = Fields(str(content.directory / "faq.yaml"))
    for i, entry in enumerate(content.faq.values()):
        for j, question in enumerate(entry.questions):
            _template_problem(f, f"faq[{i}].questions[{j}]", question, "bad template", parsed)
    return f.problems


def _reference_problems(
    content: Content, dicts: list[dict[str, Any]], parsed: dict[str, Any]
) -> list[Problem]:
    """Every {list} and <rule> a template or rule names must exist once the files are combined
    (hassil only finds out at match time), and no rule may contain itself."""
    from hassil.expression import RuleReference

    lists = set(CONTENT_LISTS)
    rules: dict[str, tuple[str, str, Any]] = {}  # name -> (file, where, parsed body)
    for path, data in zip(content.sentence_files, dicts, strict=True):
        lists.update(str(n) for n in data.get("lists") or {})
        for name, body in (data.get("expansion_rules") or {}).items():
            rules[name] = (str(path), f"expansion_rules.{name}", parsed[body])
    problems: list[Problem] = []

    def unknown(file: str, where: str, parsed: Any) -> None:
        for ref in _references(parsed.expression):
            if isinstance(ref, RuleReference):
                if ref.rule_name not in rules:
                    problems.append(Problem(file, where, f"unknown rule <{ref.rule_name}>"))
            elif ref.list_name not in lists and not ref.is_inline_range:
                problems.append(Problem(file, where, f"unknown list {{{ref.list_name}}}"))

    for path, data in zip(content.sentence_files, dicts, strict=True):
        for name, intent in (data.get("intents") or {}).items():
            for i, block in enumerate(intent["data"]):
                for j, template in enumerate(block["sentences"]):
                    where = f"intents.{name}.data[{i}].sentences[{j}]"
                    unknown(str(path), where, parsed[template])
    for i, entry in enumerate(content.faq.values()):
        for j, question in enumerate(entry.questions):
            where = f"faq[{i}].questions[{j}]"
            unknown(str(content.directory / "faq.yaml"), where, parsed[question])
    for file, where, parsed in rules.values():
        unknown(file, where, parsed)
    if not problems:
        problems += _rule_cycles(rules)
    return problems


def _rule_cycles(rules: Mapping[str, tuple[str, str, Any]]) -> list[Problem]:
    from hassil.expression import RuleReference

    uses = {
        name: {r.rule_name for r in _references(parsed.expression) if isinstance(r, RuleReference)}
        for name, (_, _, parsed) in rules.items()
    }
    problems: list[Problem] = []
    for name, (file, where, _) in sorted(rules.items()):
        seen: set[str] = set()
        stack = list(uses[name])
        while stack:
            other = stack.pop()
            if other == name:
                problems.append(Problem(file, where, f"rule <{name}> contains itself"))
                break
            if other not in seen:
                seen.add(other)
                stack.extend(uses.get(other, ()))
    return problems


def _references(expression: Any) -> Iterator[Any]:
    """Every hassil ListReference and RuleReference in an expression tree."""
    from hassil.expression import Group, ListReference, RuleReference

    stack = [expression]
    while stack:
        e = stack.pop()
        if isinstance(e, Group):
            stack.extend(e.items)
        elif isinstance(e, ListReference | RuleReference):
            yield e


# -- sentence test files -----------------------------------------------------------------------


def check_tests(content: Content) -> list[Problem]:
    """Run every test sentence; report wrong results and templates no test sentence reaches."""
    from hassil import recognize_best

    from intents.normalize import normalize
    from intents.templates import build_intents, load_sentence_dicts

    intents = build_intents(content)
    problems: list[Problem] = []
    shapes_ok = True
    reached: set[str] = set()
    for path in content.test_files:
        tests, no_intent, shape = _test_file(path)
        if shape:
            problems += shape
            shapes_ok = False
        for i, (sentences, expected) in enumerate(tests):
            for sentence in sentences:
                result = recognize_best(normalize(sentence), intents, language="en")
                template = result.intent_sentence if result is not None else None
                if template is not None and template.text:
                    reached.add(template.text)
                problems += _compare(str(path), f"tests[{i}]", sentence, expected, result)
        for sentence in no_intent:
            result = recognize_best(normalize(sentence), intents, language="en")
            if result is not None:
                problems.append(
                    Problem(str(path), "no_intent", f"{sentence!r} gave {result.intent.name}")
                )
    if not shapes_ok:  # a test file not read would make templates look unreached
        return problems
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


def _test_file(
    path: Path,
) -> tuple[list[tuple[list[str], dict[str, Any]]], list[str], list[Problem]]:
    """One tests/*.yaml: its (sentences, expected intent) pairs, its no_intent sentences, and
    the problems with its shape (the pairs and sentences are only the well-formed ones)."""
    f = Fields(str(path))
    data = read_yaml(path, f.problems)
    if f.problems:
        return [], [], f.problems
    if data is None:
        f.problem("", "file is empty")
        return [], [], f.problems
    top = f.mapping(data, "")
    f.unknown_keys(top, TEST_KEYS, "")
    f.text(top, "language", "", required=False)
    tests: list[tuple[list[str], dict[str, Any]]] = []
    if "tests" in top:
        for i, test in enumerate(f.items(top, "tests", "")):
            where = f"tests[{i}]"
            t = f.mapping(test, where)
            if not t:
                continue
            f.unknown_keys(t, {"sentences", "intent"}, where)
            before = len(f.problems)
            sentences = f.texts(t, "sentences", where)
            expected = f.mapping(t["intent"], f"{where}.intent") if "intent" in t else {}
            f.unknown_keys(expected, {"name", "slots"}, f"{where}.intent")
            if "intent" in t:
                f.text(expected, "name", f"{where}.intent")
            if "slots" in expected:
                f.mapping(expected["slots"], f"{where}.intent.slots")
            if len(f.problems) == before:
                tests.append((sentences, expected))
    no_intent = f.texts(top, "no_intent", "", required=False)
    return tests, no_intent, f.problems


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


def check_all(
    content: Content,
    handled: Iterable[str],
    used_keys: Iterable[str],
    placeholders: Mapping[str, Collection[str]] | None = None,
) -> list[Problem]:
    problems = check_responses(content, used_keys, placeholders) + check_sentences(content, handled)
    if not problems:
        problems += check_tests(content)
    return problems
