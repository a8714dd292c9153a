"""Builds one hassil Intents object from the sentence files plus lists taken from content.

The lists {routine}, {stretch} and {topic} and the FAQ's own questions come from the content
files, so adding a stretch or an FAQ entry needs no template edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hassil import Intents

from content.errors import ContentError, Problem
from content.loader import read_yaml
from content.model import Content

SKIP_WORDS = ("please", "um", "uh", "erm", "er", "hmm", "hey coach", "hey", "coach", "well", "oh")


def merge_sentence_dicts(dicts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Merge hassil YAML dicts: intents' data blocks append; lists and rules combine."""
    merged: dict[str, Any] = {"language": "en", "intents": {}, "lists": {}, "expansion_rules": {}}
    for d in dicts:
        merged["language"] = d.get("language", merged["language"])
        for name, intent in (d.get("intents") or {}).items():
            merged["intents"].setdefault(name, {"data": []})["data"].extend(intent.get("data", []))
        merged["lists"].update(d.get("lists") or {})
        merged["expansion_rules"].update(d.get("expansion_rules") or {})
        merged.setdefault("skip_words", []).extend(d.get("skip_words") or [])
    return merged


def load_sentence_dicts(files: Sequence[Path]) -> list[dict[str, Any]]:
    """Read sentence files as content files are read (size, UTF-8, no aliases); raise
    ContentError naming the file if one cannot be read. Their shape is checked by
    content.check.check_sentence_files, which callers run first."""
    out: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for path in files:
        data = read_yaml(path, problems)
        if data is not None and not isinstance(data, dict):
            problems.append(Problem(str(path), "", "expected a mapping"))
        out.append(data if isinstance(data, dict) else {})
    if problems:
        raise ContentError(problems)
    return out


# A data block with `metadata: {spoken: false}` is understood as text but left out of the
# speech grammars; an expansion rule `NAME@spoken` stands in for `<NAME>` in them. Both are
# read by voice.hearing.grammar (which works on any hassil file); checked here.
SPOKEN_KEY = "spoken"
SPOKEN_RULE_SUFFIX = "@spoken"


def spoken_problems(files: Sequence[Path], dicts: Sequence[dict[str, Any]]) -> list[Problem]:
    """The speech markers used correctly: `metadata.spoken` is true or false, a `NAME@spoken`
    rule has a plain `NAME` rule to narrow, and every intent keeps a spoken template."""
    problems: list[Problem] = []
    rules: set[str] = set()
    spoken_intents: set[str] = set()
    intent_files: dict[str, str] = {}
    for path, data in zip(files, dicts, strict=True):
        rules.update(str(name) for name in data.get("expansion_rules") or {})
        for name, intent in (data.get("intents") or {}).items():
            intent_files.setdefault(name, str(path))
            blocks = intent.get("data") if isinstance(intent, dict) else None
            for i, block in enumerate(blocks if isinstance(blocks, list) else []):
                meta = block.get("metadata") if isinstance(block, dict) else None
                value = meta.get(SPOKEN_KEY, True) if isinstance(meta, dict) else True
                if not isinstance(value, bool):
                    where = f"intents.{name}.data[{i}].metadata.{SPOKEN_KEY}"
                    problems.append(Problem(str(path), where, "expected true or false"))
                elif value:
                    spoken_intents.add(name)
    for path, data in zip(files, dicts, strict=True):
        for name in data.get("expansion_rules") or {}:
            base = str(name).removesuffix(SPOKEN_RULE_SUFFIX)
            if str(name).endswith(SPOKEN_RULE_SUFFIX) and base not in rules:
                where = f"expansion_rules.{name}"
                problems.append(Problem(str(path), where, f"no rule <{base}> to narrow"))
    for name in sorted(set(intent_files) - spoken_intents):
        problems.append(
            Problem(
                intent_files[name],
                f"intents.{name}",
                "every block is 'spoken: false': the intent could never be heard",
            )
        )
    return problems


def slot_list(phrases: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """A hassil text list mapping every phrase to its id."""
    values = [{"in": phrase, "out": value} for value, ps in phrases.items() for phrase in ps]
    return {"values": values}


def content_lists(content: Content) -> dict[str, Any]:
    return {
        "routine": slot_list({r.id: r.phrases for r in content.routines.values()}),
        "stretch": slot_list({s.id: s.phrases for s in content.stretches.values()}),
        "topic": slot_list({f.id: f.topics for f in content.faq.values()}),
    }


def faq_question_intents(content: Content) -> dict[str, Any]:
    """Each FAQ entry's questions become AskFaq sentences with a fixed topic."""
    data = [
        {"sentences": list(entry.questions), "slots": {"topic": entry.id}}
        for entry in content.faq.values()
    ]
    return {"intents": {"AskFaq": {"data": data}}}


def sentence_dict_for(
    content: Content, files_data: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The combined hassil dict; `files_data` is the sentence files already read, if they are."""
    dicts = (
        list(files_data) if files_data is not None else load_sentence_dicts(content.sentence_files)
    )
    problems = spoken_problems(content.sentence_files, dicts)
    if problems:
        raise ContentError(problems)
    dicts.append({"lists": content_lists(content)})
    dicts.append(faq_question_intents(content))
    merged = merge_sentence_dicts(dicts)
    merged["skip_words"] = list(dict.fromkeys([*merged.get("skip_words", []), *SKIP_WORDS]))
    return merged


def build_intents(content: Content) -> Intents:
    return Intents.from_dict(sentence_dict_for(content))
