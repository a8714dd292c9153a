"""Hassil templates -> restricted grammars, for any sentence file (not only ours)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

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


# --- Speech is a compact subset of text ------------------------------------------------------

SPOKEN = """
language: en
intents:
  Stop:
    data:
      - sentences:
          - "<req> stop"
      - metadata: {spoken: false}
        sentences:
          - "<req> (halt|cease) everything"
  Other:
    data:
      - sentences: ["dance"]
        metadata: {spoken: false, note: "other keys are left alone"}
expansion_rules:
  req: "[(please|you can|we can)]"
  req@spoken: "[please]"
"""


def test_text_only_blocks_and_spoken_rules_narrow_the_grammar(tmp_path: Path) -> None:
    from hassil import recognize

    intents = intents_from(tmp_path, SPOKEN)
    g = compile_grammar(intents, {"Stop"})
    assert set(g.sentences()) == {"stop", "please stop"}
    assert g.accepts("Please stop!") and not g.accepts("you can stop")
    assert not g.accepts("halt everything")
    for text in ("you can stop", "we can halt everything", "dance"):  # text stays broad
        assert recognize(text, intents) is not None, text
    with pytest.raises(GrammarError, match="no sentences"):
        compile_grammar(intents, {"Other"})  # every block text only: nothing to hear
    assert compile_state_grammars(intents, {"s": {"Other"}}, always={"Stop"})["s"].intents == {
        "Stop"
    }


def test_spoken_flag_must_be_true_or_false(tmp_path: Path) -> None:
    intents = intents_from(tmp_path, SPOKEN.replace("{spoken: false}", "{spoken: 'no'}", 1))
    with pytest.raises(GrammarError, match="true or false"):
        compile_grammar(intents)


def _coach() -> tuple[Any, dict[str, Any]]:
    try:
        from content.loader import load_content
        from intents.templates import build_intents
        from voice.hearing.listener import BARGE_IN, DEFAULT_STATE_INTENTS
    except ImportError:
        pytest.skip("the coach's content/intents packages are not there")
    intents = build_intents(load_content())
    return intents, compile_state_grammars(intents, DEFAULT_STATE_INTENTS, always=BARGE_IN)


# Barge-in safety: these must be heard in every coach state.
SAFETY = (
    "ouch",
    "ow",
    "ow ow",
    "that hurts",
    "ouch that hurts",
    "it hurts",
    "stop it hurts",
    "my knee hurts",
    "i feel sharp pain",
    "too much",
    "i pulled something",
    "cramp",
    "stop",
    "pause",
)

# What ordinary speech was heard as when the spoken grammars were as broad as the text ones
# (`stretch-coach bench --only false-activations`, hold and idle states): no longer sentences
# of a speech grammar, but still understood when typed.
FALSE_ACTIVATIONS = (
    "the psoas hurts so much in the outer glutes",
    "ow im getting a twinge really at the outer psoas",
    "ah that right muscle is hurting so on the lower spine",
    "oof im getting a spasm at the hamstrings",
    "you can cancel the whole thing for today",
    "and a psoas muscle",
)


def test_coach_safety_phrases_are_heard_in_every_state() -> None:
    _, grammars = _coach()
    for state, g in grammars.items():
        missing = [text for text in SAFETY if not g.accepts(text)]
        assert not missing, f"{state}: {missing}"


def test_coach_spoken_grammars_leave_out_broad_text_forms() -> None:
    from voice.hearing.verify import Verifier

    intents, grammars = _coach()
    verifier = Verifier(intents)
    for text in FALSE_ACTIVATIONS:
        assert verifier.match(text) is not None, text  # understood as text...
        heard = [state for state, g in grammars.items() if g.accepts(text)]
        assert not heard, f"{text!r} is a sentence of {heard}"  # ...but not as speech
    for state, g in grammars.items():
        assert g.sentence_count() < 1_000_000, state  # was 10^13 with the text forms
        assert len(g.to_jsgf()) < 16_000, state


def _random_sentence(node: Any, rules: Any, rng: random.Random) -> list[str]:
    from voice.hearing.grammar import Alt, Ref, Seq, Word

    if isinstance(node, Word):
        return [node.text]
    if isinstance(node, Ref):
        return _random_sentence(rules[node.name], rules, rng)
    if isinstance(node, Seq):
        return [w for item in node.items for w in _random_sentence(item, rules, rng)]
    assert isinstance(node, Alt)
    return _random_sentence(rng.choice(node.items), rules, rng)


def test_coach_spoken_sentences_are_understood_as_text() -> None:
    """The verifier re-parses recognized text with the text templates: every sentence of a
    state's speech grammar must give one of that state's intents."""
    from voice.hearing.listener import BARGE_IN, DEFAULT_STATE_INTENTS
    from voice.hearing.verify import Verifier

    intents, grammars = _coach()
    verifier = Verifier(intents)
    rng = random.Random(7)
    for state, g in grammars.items():
        allowed = set(DEFAULT_STATE_INTENTS[state]) | BARGE_IN
        for _ in range(60):
            text = " ".join(_random_sentence(g.root, g.rules, rng))
            assert verifier.match(text, allowed) is not None, f"{state}: {text!r}"
