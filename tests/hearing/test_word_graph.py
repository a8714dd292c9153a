"""The grammar as a minimal word automaton: the same sentences, fewer states, no loops."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path

import pytest

from voice.hearing.grammar import (
    Alt,
    CompiledGrammar,
    GrammarError,
    Ref,
    Seq,
    Word,
    compile_grammar,
    compile_state_grammars,
    load_intents,
)
from voice.hearing.word_graph import word_graph

from .conftest import COACH_SENTENCES


@pytest.fixture(scope="module")
def coach(tmp_path_factory: pytest.TempPathFactory) -> CompiledGrammar:
    path = tmp_path_factory.mktemp("g") / "coach.yaml"
    path.write_text(COACH_SENTENCES, encoding="utf-8")
    return compile_grammar(load_intents(path), name="all")


def test_it_holds_exactly_the_grammar_s_sentences(coach: CompiledGrammar) -> None:
    graph = word_graph(coach)
    sentences = [s.split() for s in coach.sentences()]
    assert all(graph.accepts(words) for words in sentences)
    vocabulary = sorted(coach.vocabulary)
    # Every word sequence of up to three words, and each sentence one word longer or shorter.
    tried = [list(w) for n in range(4) for w in itertools.product(vocabulary, repeat=n)]
    tried += [s[:-1] for s in sentences] + [[*s, "please"] for s in sentences]
    for words in tried:
        assert graph.accepts(words) == coach.accepts(" ".join(words)), words


def test_a_sentence_that_goes_on_reaches_the_end_by_a_null_transition() -> None:
    # "pause [the session]": the state after "pause" both ends a sentence and goes on
    rest = Alt((Seq(()), Seq((Word("the"), Word("session")))))
    graph = word_graph(CompiledGrammar("g", frozenset(), Seq((Word("pause"), rest))))
    assert graph.states == 4
    nulls = [(src, dst) for src, dst, word in graph.arcs if word is None]
    after_pause = [dst for src, dst, word in graph.arcs if word == "pause"]
    assert nulls == [(after_pause[0], graph.final)]
    assert graph.accepts(["pause"]) and graph.accepts(["pause", "the", "session"])
    assert not graph.accepts(["pause", "the"])


def test_shared_endings_are_merged(coach: CompiledGrammar) -> None:
    # "(morning | evening | desk break) routine": one state before "routine", not three
    graph = word_graph(coach)
    into_routine = {dst for _, dst, word in graph.arcs if word == "routine"}
    assert len(into_routine) == 1
    assert graph.states < sum(len(s.split()) for s in coach.sentences())


def test_each_state_s_ways_out_share_its_probability(coach: CompiledGrammar) -> None:
    totals: Counter[int] = Counter()
    for src, _, p, *_ in word_graph(coach).transitions():
        totals[src] += p
    assert all(abs(total - 1.0) < 1e-9 for total in totals.values())


def test_a_rule_that_refers_to_itself_is_a_clear_error() -> None:
    grammar = CompiledGrammar(
        "loop", frozenset(), Ref("again"), rules={"again": Seq((Word("a"), Ref("again")))}
    )
    with pytest.raises(GrammarError, match="refers to itself"):
        word_graph(grammar)


def test_the_coach_grammars_become_small(tmp_path: Path) -> None:
    from intents.templates import build_intents
    from voice.appcontent import get_content
    from voice.hearing.listener import BARGE_IN, DEFAULT_STATE_INTENTS

    intents = build_intents(get_content(None))
    grammars = compile_state_grammars(intents, DEFAULT_STATE_INTENTS, always=BARGE_IN)
    hold = grammars["hold"]
    graph = word_graph(hold)
    # PocketSphinx's JSGF conversion of the same grammar: 2781 states, 9472 transitions
    assert graph.states < 1000 and len(graph.arcs) < 3000
    sample = random.Random(7).sample(list(hold.sentences()), 300)
    assert all(graph.accepts(s.split()) for s in sample)
