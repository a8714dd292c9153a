"""A grammar as its minimal word automaton, for engines that search one (PocketSphinx's FSG).

PocketSphinx turns JSGF into a finite-state grammar with a null transition at every rule
boundary and alternative: the coach's hold grammar became 2781 states, 1802 word and 7670
null transitions, and the search builds a tree of every word a state reaches through its
null transitions, for every state. The same sentences as a minimal deterministic automaton
are 372 states and 1484 word transitions.

Built from the grammar tree without listing sentences: a word NFA (one state per word
end), made deterministic by subset construction, then minimised by merging states with the
same future (the automaton has no cycles, so one pass from the ends back does it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from voice.hearing.grammar import Alt, CompiledGrammar, GrammarError, Node, Ref, Seq, Word

Arc = tuple[int, int, str | None]  # (from, to, word); None: a null transition


@dataclass(frozen=True)
class WordGraph:
    """States 0..states-1; every path from `start` to `final` spells a sentence."""

    states: int
    start: int
    final: int
    arcs: tuple[Arc, ...]

    def transitions(self) -> list[tuple[int, int, float] | tuple[int, int, float, str]]:
        """Arcs with probabilities (each state's way out shared equally), as
        PocketSphinx's `Decoder.create_fsg` takes them."""
        out_degree: dict[int, int] = {}
        for src, _, _ in self.arcs:
            out_degree[src] = out_degree.get(src, 0) + 1
        out: list[tuple[int, int, float] | tuple[int, int, float, str]] = []
        for src, dst, word in self.arcs:
            p = 1.0 / out_degree[src]
            out.append((src, dst, p) if word is None else (src, dst, p, word))
        return out

    def accepts(self, words: list[str]) -> bool:
        states = self._closure({self.start})
        for word in words:
            states = self._closure({d for s, d, w in self.arcs if s in states and w == word})
        return self.final in states

    def _closure(self, states: set[int]) -> set[int]:
        todo, seen = list(states), set(states)
        while todo:
            s = todo.pop()
            for src, dst, word in self.arcs:
                if src == s and word is None and dst not in seen:
                    seen.add(dst)
                    todo.append(dst)
        return seen


class _Nfa:
    """Word arcs and null arcs between numbered states, built from a grammar tree."""

    def __init__(self, rules: Mapping[str, Node]) -> None:
        self.rules = rules
        self.words: list[list[tuple[str, int]]] = []
        self.nulls: list[list[int]] = []
        self._inlining: set[str] = set()

    def state(self) -> int:
        self.words.append([])
        self.nulls.append([])
        return len(self.words) - 1

    def build(self, node: Node, src: int) -> int:
        """Add `node` from state `src`; return the state where it ends."""
        if isinstance(node, Word):
            dst = self.state()
            self.words[src].append((node.text, dst))
            return dst
        if isinstance(node, Ref):
            if node.name in self._inlining:
                raise GrammarError(f"rule {node.name!r} refers to itself")
            self._inlining.add(node.name)
            try:
                return self.build(self.rules[node.name], src)
            finally:
                self._inlining.discard(node.name)
        if isinstance(node, Seq):
            for item in node.items:
                src = self.build(item, src)
            return src
        assert isinstance(node, Alt)
        end = self.state()
        for item in node.items:
            self.nulls[self.build(item, src)].append(end)
        return end

    def closure(self, states: frozenset[int]) -> frozenset[int]:
        todo, seen = list(states), set(states)
        while todo:
            for nxt in self.nulls[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return frozenset(seen)


def word_graph(grammar: CompiledGrammar) -> WordGraph:
    nfa = _Nfa(grammar.rules)
    start = nfa.state()
    accept = nfa.build(grammar.root, start)
    # Subset construction: DFA state = the set of NFA states the words so far can reach.
    first = nfa.closure(frozenset({start}))
    index = {first: 0}
    arcs: list[dict[str, int]] = [{}]
    final: list[bool] = [accept in first]
    todo = [first]
    while todo:
        current = todo.pop()
        moves: dict[str, set[int]] = {}
        for s in current:
            for word, dst in nfa.words[s]:
                moves.setdefault(word, set()).add(dst)
        src = index[current]
        for word, dsts in moves.items():
            target = nfa.closure(frozenset(dsts))
            if target not in index:
                index[target] = len(arcs)
                arcs.append({})
                final.append(accept in target)
                todo.append(target)
            arcs[src][word] = index[target]
    return _minimal(arcs, final)


def _minimal(arcs: list[dict[str, int]], final: list[bool]) -> WordGraph:
    """Merge states with the same future; one final state, reached by a null transition from
    states where a sentence may end but also go on ("pause" / "pause the session")."""
    if not any(final):
        raise GrammarError("the grammar holds no sentence")
    merged: dict[tuple[bool, tuple[tuple[str, int], ...]], int] = {}
    canon: dict[int, int] = {}
    for s in _post_order(arcs):
        key = (final[s], tuple(sorted((w, canon[d]) for w, d in arcs[s].items())))
        canon[s] = merged.setdefault(key, len(merged))
    sink = merged.get((True, ()))
    states = len(merged)
    if sink is None:  # every sentence goes on: the final state is a new one
        sink, states = states, states + 1
    out: list[Arc] = []
    for (is_final, moves), s in merged.items():
        out += [(s, d, w) for w, d in moves]
        if is_final and s != sink:
            out.append((s, sink, None))
    return WordGraph(states=states, start=canon[0], final=sink, arcs=tuple(sorted(out, key=_key)))


def _key(arc: Arc) -> tuple[int, int, str]:
    return arc[0], arc[1], arc[2] or ""


def _post_order(arcs: list[dict[str, int]]) -> list[int]:
    order: list[int] = []
    done: set[int] = set()
    stack: list[tuple[int, bool]] = [(0, False)]
    while stack:
        s, expanded = stack.pop()
        if expanded:
            order.append(s)
            continue
        if s in done:
            continue
        done.add(s)
        stack.append((s, True))
        stack.extend((d, False) for d in arcs[s].values() if d not in done)
    return order
