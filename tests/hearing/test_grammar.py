"""Hassil templates -> restricted grammars, for any sentence file (not only ours)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice.hearing.grammar import (
    GrammarError,
    compile_grammar,
    compile_state_grammars,
    load_intents,
    normalize_words,
)

from .conftest import BARISTA_SENTENCES


def intents_from(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return load_intents(path)


GENERIC = """
language: en
intents:
  TurnOn:
    data:
      - sentences:
          - "turn on [the] light[s] in the {area}"
          - "(switch;turn) on {area} lamp"
        lists:
          area:
            values: ["kitchen", {"in": "living room", "out": "living_room"}]
  SetTimer:
    data:
      - sentences:
          - "set [a] timer for {minutes} minute[s]"
  Say:
    data:
      - sentences:
          - "say {message}"
          - "<polite> stop"
lists:
  minutes:
    range: {from: 1, to: 3}
  message:
    wildcard: true
expansion_rules:
  polite: "[please|kindly]"
"""


def test_generic_templates_compile_to_expected_sentences(tmp_path: Path) -> None:
    g = compile_grammar(intents_from(tmp_path, GENERIC))
    sentences = set(g.sentences())
    assert "turn on the lights in the living room" in sentences
    assert "turn on light in the kitchen" in sentences  # glued optional suffix, expanded
    assert {"turn switch on kitchen lamp", "switch turn on kitchen lamp"} <= sentences
    assert "set a timer for three minutes" in sentences  # range spelled out
    assert "kindly stop" in sentences and "stop" in sentences
    assert not any(s.startswith("say") for s in sentences)  # wildcard template skipped
    assert g.intents == {"TurnOn", "SetTimer", "Say"}


def test_jsgf_text(tmp_path: Path) -> None:
    text = compile_grammar(intents_from(tmp_path, GENERIC), name="my grammar").to_jsgf()
    assert text.startswith("#JSGF V1.0;\ngrammar my_grammar;\npublic <command> = ")
    assert "<list_area> = ( kitchen | living room );" in text
    assert "<rule_polite> = [ please | kindly ];" in text


def test_jsgf_is_accepted_by_pocketsphinx(tmp_path: Path) -> None:
    pocketsphinx = pytest.importorskip("pocketsphinx")
    g = compile_grammar(intents_from(tmp_path, GENERIC))
    decoder = pocketsphinx.Decoder(pocketsphinx.Config(lm=None, loglevel="FATAL"))
    decoder.add_jsgf_string("g", g.to_jsgf())  # raises on a syntax error
    decoder.activate_search("g")


def test_intent_subset_and_states(tmp_path: Path) -> None:
    intents = intents_from(tmp_path, GENERIC)
    only = compile_grammar(intents, {"SetTimer"})
    assert only.intents == {"SetTimer"}
    assert "lamp" not in only.vocabulary
    grammars = compile_state_grammars(
        intents, {"idle": {"TurnOn"}, "hold": {"SetTimer"}}, always={"Say"}
    )
    assert grammars["idle"].intents == {"TurnOn", "Say"}
    assert grammars["hold"].intents == {"SetTimer", "Say"}


def test_vosk_phrases_list_or_vocabulary(tmp_path: Path) -> None:
    g = compile_grammar(intents_from(tmp_path, GENERIC), {"SetTimer"})
    phrases = g.vosk_phrases()
    assert phrases[-1] == "[unk]"
    assert "set a timer for one minute" in phrases
    words = g.vosk_phrases(max_phrases=2)
    assert "timer" in words and "[unk]" in words and len(words) == len(g.vocabulary) + 1


def test_barista_grammar_is_compact_but_complete() -> None:
    g = compile_grammar(load_intents(BARISTA_SENTENCES))
    assert g.sentence_count() > 1_000_000  # far too many to list...
    assert len(g.to_jsgf()) < 5000  # ...but a small JSGF
    assert {"americano", "sweetener", "i'd", "ounce"} <= g.vocabulary


def test_coach_templates_compile() -> None:
    try:
        from content.loader import load_content
        from intents.templates import build_intents
    except ImportError:
        pytest.skip("the coach's content/intents packages are not there")
    intents = build_intents(load_content())
    g = compile_grammar(intents)
    assert {"stop", "pause"} <= g.vocabulary
    assert len(g.to_jsgf()) < 200_000


def test_missing_list_is_a_clear_error(tmp_path: Path) -> None:
    intents = intents_from(
        tmp_path, "language: en\nintents:\n  A:\n    data:\n      - sentences: ['x {nope}']\n"
    )
    with pytest.raises(GrammarError, match="nope"):
        compile_grammar(intents)


def test_normalize_words() -> None:
    assert normalize_words("I'd like 2 Lattes, please!") == [
        "i'd",
        "like",
        "two",
        "lattes",
        "please",
    ]
    assert normalize_words("커피 주세요", "ko") == ["커피", "주세요"]
