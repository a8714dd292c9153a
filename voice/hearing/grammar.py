"""Compile hassil sentence templates into the restricted grammars speech engines accept.

Hassil templates are walked as expression trees rather than sampled: a template such as the
barista order stands for millions of sentences, but its tree is small, and JSGF (PocketSphinx)
can say the same thing with alternatives and named rules; voice.hearing.word_graph turns the
tree into the minimal word automaton PocketSphinx searches. Vosk takes a phrase list; when the
sentences are too many to list we hand it the vocabulary instead and let verification (which
re-parses the text with hassil) enforce the structure.

Text understanding and speech need not cover the same sentences. Typed text is matched
exactly, so its templates can be broad; a restricted-grammar decoder forces *any* speech
onto its closest sentence, so every extra phrasing in a speech grammar is one more way for
ordinary talk to fire a command (and a larger, slower search). Two markers, both plain
hassil data, keep the speech grammars to what people say:

* a data block with `metadata: {spoken: false}` is understood as text but not compiled into
  speech grammars;
* an expansion rule `NAME@spoken` replaces `<NAME>` in speech grammars (a narrower request
  frame, say), while text keeps `<NAME>`. It should only narrow the rule: the verifier
  re-parses recognized text against the text templates.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hassil import Intents
from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    Sentence,
    Sequence,
    TextChunk,
)
from hassil.intents import RangeSlotList, SlotList, TextSlotList, WildcardSlotList
from hassil.sample import sample_expression

_LOG = logging.getLogger(__name__)

# A word is letters/digits (any script, so Korean works) with inner apostrophes ("i'd").
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

# Glued pieces ("light[s]") are expanded by sampling; past this the template is unreasonable.
_MAX_GLUE_EXPANSION = 5000
_MAX_PERMUTATION_ITEMS = 6
_MAX_RULE_DEPTH = 24


# Data-block metadata key: false means "text only, not in speech grammars".
SPOKEN_KEY = "spoken"
# Suffix of an expansion rule that stands in for the plain rule in speech grammars.
SPOKEN_RULE_SUFFIX = "@spoken"


class GrammarError(ValueError):
    """The templates cannot be turned into a closed grammar."""


class _Unrepresentable(Exception):
    """Raised inside one template (e.g. a wildcard); that template is skipped."""


# --- A tiny word-level regular-expression tree -------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Ref:
    """A named rule (a slot list or an expansion rule), emitted once in JSGF."""

    name: str


Node = Word | Seq | Alt | Ref

EMPTY = Seq(())


def normalize_words(text: str, language: str = "en") -> list[str]:
    """Split text the way engines see it: lower case, no punctuation, digits spelled out."""
    words: list[str] = []
    for token in _WORD_RE.findall(text.casefold()):
        if token.isdigit():
            words.extend(_number_words(int(token), language))
        else:
            words.append(token)
    return words


def _number_words(number: int, language: str) -> list[str]:
    try:
        from hassil.numbers import get_rbnf_engine

        result = get_rbnf_engine(language).format_number(number)
        texts = list(result.text_by_ruleset.values())
        preferred = result.text_by_ruleset.get("spellout-numbering") or (
            texts[0] if texts else str(number)
        )
        return _WORD_RE.findall(preferred.replace("-", " ").casefold())
    except Exception:  # noqa: BLE001 - no number words for this language: keep the digits
        return [str(number)]


def _seq(items: Iterable[Node]) -> Node:
    flat: list[Node] = []
    for item in items:
        if isinstance(item, Seq):
            flat.extend(item.items)
        else:
            flat.append(item)
    return flat[0] if len(flat) == 1 else Seq(tuple(flat))


def _alt(items: Iterable[Node]) -> Node:
    unique: list[Node] = []
    for item in items:
        parts = item.items if isinstance(item, Alt) else (item,)
        for part in parts:
            if part not in unique:
                unique.append(part)
    return unique[0] if len(unique) == 1 else Alt(tuple(unique))


# --- Hassil expression -> word tree --------------------------------------------------------


@dataclass
class _Context:
    language: str
    slot_lists: Mapping[str, SlotList]
    expansion_rules: Mapping[str, Sentence]
    rules: dict[str, Node]
    rule_names: dict[int, str]
    depth: int = 0


# Slot lists compile to rules named with this prefix; expansion rules to "rule_...".
SLOT_RULE_PREFIX = "list_"


def _rule_name(ctx: _Context, key: object, base: str) -> tuple[str, bool]:
    """Stable JSGF rule name per hassil object; second value says it is new."""
    ident = id(key)
    if ident in ctx.rule_names:
        return ctx.rule_names[ident], False
    clean = re.sub(r"[^A-Za-z0-9_]", "_", base) or "r"
    name = clean
    n = 1
    while name in ctx.rules or name in ctx.rule_names.values():
        n += 1
        name = f"{clean}_{n}"
    ctx.rule_names[ident] = name
    return name, True


def _convert(expr: Expression, ctx: _Context) -> Node:
    if isinstance(expr, TextChunk):
        return _seq(Word(w) for w in normalize_words(expr.text, ctx.language))
    if isinstance(expr, Alternative):
        items = [_convert(item, ctx) for item in expr.items]
        if expr.is_optional:
            items.append(EMPTY)
        return _alt(items)
    if isinstance(expr, Permutation):
        if len(expr.items) > _MAX_PERMUTATION_ITEMS:
            raise GrammarError(f"permutation of {len(expr.items)} items is too large")
        converted = [_convert(item, ctx) for item in expr.items]
        return _alt(_seq(order) for order in itertools.permutations(converted))
    if isinstance(expr, Sequence):
        return _convert_sequence(expr, ctx)
    if isinstance(expr, Group):  # an unknown group kind: treat as a sequence
        return _convert_sequence(Sequence(items=expr.items), ctx)
    if isinstance(expr, ListReference):
        return _convert_list(expr, ctx)
    if isinstance(expr, RuleReference):
        return _convert_rule(expr, ctx)
    raise GrammarError(f"unexpected template expression {type(expr).__name__}")


def _convert_list(ref: ListReference, ctx: _Context) -> Node:
    slot_list = ctx.slot_lists.get(ref.list_name)
    if slot_list is None:
        if ref.is_inline_range:
            start, stop, step = ref.get_inline_range() or (0, 0, 1)
            slot_list = RangeSlotList(name=ref.list_name, start=start, stop=stop, step=step)
        else:
            raise GrammarError(f"template uses missing list {{{ref.list_name}}}")
    if isinstance(slot_list, WildcardSlotList):
        raise _Unrepresentable(f"wildcard list {{{ref.list_name}}}")
    name, new = _rule_name(ctx, slot_list, f"{SLOT_RULE_PREFIX}{ref.list_name}")
    if not new:
        return Ref(name)
    ctx.rules[name] = EMPTY  # placeholder guards against self-reference
    if isinstance(slot_list, TextSlotList):
        body = _alt(_convert(value.text_in, ctx) for value in slot_list.values)
    elif isinstance(slot_list, RangeSlotList):
        body = _alt(
            _seq(Word(w) for w in _number_words(n, ctx.language))
            for n in range(slot_list.start, slot_list.stop + 1, slot_list.step)
        )
    else:
        raise GrammarError(f"unsupported list type for {{{ref.list_name}}}")
    ctx.rules[name] = body
    return Ref(name)


def _convert_rule(ref: RuleReference, ctx: _Context) -> Node:
    rule = ctx.expansion_rules.get(ref.rule_name + SPOKEN_RULE_SUFFIX) or ctx.expansion_rules.get(
        ref.rule_name
    )
    if rule is None:
        raise GrammarError(f"template uses missing rule <{ref.rule_name}>")
    name, new = _rule_name(ctx, rule, f"rule_{ref.rule_name}")
    if not new:
        return Ref(name)
    if ctx.depth > _MAX_RULE_DEPTH:
        raise GrammarError(f"expansion rules nest too deeply at <{ref.rule_name}>")
    ctx.rules[name] = EMPTY
    ctx.depth += 1
    try:
        ctx.rules[name] = _convert(rule.expression, ctx)
    finally:
        ctx.depth -= 1
    return Ref(name)


def _convert_sequence(seq: Sequence, ctx: _Context) -> Node:
    """Join items; items touching without whitespace ("light[s]") are expanded together."""
    runs: list[list[Expression | str]] = []
    open_right = False  # does the text so far end inside a word?
    for item in seq.items:
        if isinstance(item, TextChunk):
            text = item.text
            if not text:
                continue
            pieces = text.split()
            glue_first = open_right and not text[0].isspace()
            for i, piece in enumerate(pieces):
                if i == 0 and glue_first and runs:
                    runs[-1].append(piece)
                else:
                    runs.append([piece])
            open_right = not text[-1].isspace()
        else:
            if open_right and runs:
                runs[-1].append(item)
            else:
                runs.append([item])
            open_right = True
    return _seq(_convert_run(run, ctx) for run in runs)


def _convert_run(run: list[Expression | str], ctx: _Context) -> Node:
    if len(run) == 1:
        only = run[0]
        if isinstance(only, str):
            return _seq(Word(w) for w in normalize_words(only, ctx.language))
        return _convert(only, ctx)
    choices: list[list[str]] = []
    for part in run:
        if isinstance(part, str):
            choices.append([part])
        else:
            choices.append(
                list(
                    sample_expression(
                        part, dict(ctx.slot_lists), dict(ctx.expansion_rules), ctx.language
                    )
                )
            )
    total = 1
    for c in choices:
        total *= max(1, len(c))
    if total > _MAX_GLUE_EXPANSION:
        raise GrammarError("a template glues too many alternatives into one word")
    return _alt(
        _seq(Word(w) for w in normalize_words("".join(combo), ctx.language))
        for combo in itertools.product(*choices)
    )


# --- Compiled grammar ------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledGrammar:
    """One restricted grammar, ready for either engine."""

    name: str
    intents: frozenset[str]
    root: Node
    rules: Mapping[str, Node] = field(default_factory=dict)
    # The sentences of each intent's data block ("Intent/0", ...; the root is their union):
    # a block shares one intent and its fixed slots, so the engine can tell whether a longer
    # sentence that continues what was heard would mean something else.
    meanings: Mapping[str, Node] = field(default_factory=dict)

    @property
    def vocabulary(self) -> frozenset[str]:
        words: set[str] = set()
        _collect_words(self.root, self.rules, words, set())
        return frozenset(words)

    def sentence_count(self) -> int:
        return _count(self.root, self.rules, {})

    def sentences(self) -> Iterator[str]:
        """Every word sequence the grammar allows (can be huge: check sentence_count)."""
        for words in _expand(self.root, self.rules):
            yield " ".join(words)

    def accepts(self, text: str) -> bool:
        """Whether the grammar holds this sentence (words as `normalize_words` splits them)."""
        words = tuple(normalize_words(text))
        return len(words) in _ends(self.root, self.rules, words, frozenset({0}))

    def to_jsgf(self) -> str:
        lines = ["#JSGF V1.0;", f"grammar {_jsgf_name(self.name)};"]
        lines.append(f"public <command> = {_jsgf(self.root)};")
        for name, body in self.rules.items():
            lines.append(f"<{name}> = {_jsgf(body)};")
        return "\n".join(lines) + "\n"

    def vosk_phrases(self, max_phrases: int = 2000) -> list[str]:
        """Phrase list for Vosk grammar mode, always with "[unk]" to absorb other speech.

        Too many sentences to list: give the words, and rely on verification for structure.
        """
        if self.sentence_count() <= max_phrases:
            phrases = sorted(set(self.sentences()))
        else:
            phrases = sorted(self.vocabulary)
        return [p for p in phrases if p] + ["[unk]"]


def _jsgf_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name) or "commands"


def _jsgf(node: Node) -> str:
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Ref):
        return f"<{node.name}>"
    if isinstance(node, Seq):
        if not node.items:
            return "<NULL>"
        return " ".join(_jsgf(item) for item in node.items)
    non_empty = [item for item in node.items if item != EMPTY]
    body = " | ".join(_jsgf(item) for item in non_empty)
    if len(non_empty) < len(node.items):
        return f"[ {body} ]" if non_empty else "<NULL>"
    return f"( {body} )"


def _collect_words(node: Node, rules: Mapping[str, Node], out: set[str], seen: set[str]) -> None:
    if isinstance(node, Word):
        out.add(node.text)
    elif isinstance(node, Ref):
        if node.name not in seen:
            seen.add(node.name)
            _collect_words(rules[node.name], rules, out, seen)
    else:
        for item in node.items:
            _collect_words(item, rules, out, seen)


def _count(node: Node, rules: Mapping[str, Node], memo: dict[str, int]) -> int:
    if isinstance(node, Word):
        return 1
    if isinstance(node, Ref):
        if node.name not in memo:
            memo[node.name] = 0  # recursion counts as nothing rather than looping
            memo[node.name] = _count(rules[node.name], rules, memo)
        return memo[node.name]
    if isinstance(node, Seq):
        total = 1
        for item in node.items:
            total *= _count(item, rules, memo)
        return total
    return sum(_count(item, rules, memo) for item in node.items)


def _ends(
    node: Node, rules: Mapping[str, Node], words: tuple[str, ...], starts: frozenset[int]
) -> frozenset[int]:
    """Positions in `words` where a match of `node` can end, having begun at one of `starts`."""
    if not starts:
        return starts
    if isinstance(node, Word):
        return frozenset(p + 1 for p in starts if p < len(words) and words[p] == node.text)
    if isinstance(node, Ref):
        return _ends(rules[node.name], rules, words, starts)
    if isinstance(node, Seq):
        for item in node.items:
            starts = _ends(item, rules, words, starts)
        return starts
    out: frozenset[int] = frozenset()
    for item in node.items:
        out |= _ends(item, rules, words, starts)
    return out


def _expand(node: Node, rules: Mapping[str, Node]) -> Iterator[tuple[str, ...]]:
    if isinstance(node, Word):
        yield (node.text,)
    elif isinstance(node, Ref):
        yield from _expand(rules[node.name], rules)
    elif isinstance(node, Seq):
        parts = [list(_expand(item, rules)) for item in node.items]
        for combo in itertools.product(*parts):
            yield tuple(w for piece in combo for w in piece)
    else:
        for item in node.items:
            yield from _expand(item, rules)


# --- Public entry points ---------------------------------------------------------------------


def is_spoken(metadata: Mapping[str, Any] | None) -> bool:
    """Whether a data block with this metadata belongs in speech grammars (default: yes)."""
    if not metadata or SPOKEN_KEY not in metadata:
        return True
    value = metadata[SPOKEN_KEY]
    if not isinstance(value, bool):
        raise GrammarError(f"metadata {SPOKEN_KEY!r} must be true or false, not {value!r}")
    return value


def load_intents(paths: str | Path | Iterable[str | Path]) -> Intents:
    """Load one or more hassil YAML files (or directories of them) into one Intents."""
    if isinstance(paths, str | Path):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    if not files:
        raise GrammarError("no sentence files given")
    try:
        return Intents.from_files(files)
    except OSError as err:
        raise GrammarError(f"cannot read sentences: {err}") from err
    except Exception as err:  # noqa: BLE001 - hassil raises many types for bad YAML
        raise GrammarError(f"bad sentence file: {err}") from err


def compile_grammar(
    intents: Intents,
    intent_names: Collection[str] | None = None,
    name: str = "commands",
) -> CompiledGrammar:
    """Compile the templates of the chosen intents (all when None) into one grammar."""
    language = intents.language or "en"
    rules: dict[str, Node] = {}
    rule_names: dict[int, str] = {}
    sentences: list[Node] = []
    meanings: dict[str, list[Node]] = {}
    chosen: set[str] = set()
    for intent in intents.intents.values():
        if intent_names is not None and intent.name not in intent_names:
            continue
        for k, data in enumerate(intent.data):
            if not is_spoken(data.metadata):
                continue
            ctx = _Context(
                language=language,
                slot_lists={**intents.slot_lists, **data.slot_lists},
                expansion_rules={**intents.expansion_rules, **data.expansion_rules},
                rules=rules,
                rule_names=rule_names,
            )
            for sentence in data.sentences:
                try:
                    node = _convert(sentence.expression, ctx)
                    sentences.append(node)
                    meanings.setdefault(f"{intent.name}/{k}", []).append(node)
                    chosen.add(intent.name)
                except _Unrepresentable as why:
                    _LOG.warning("skipping template %r of %s: %s", sentence.text, intent.name, why)
    if intent_names is not None:
        missing = set(intent_names) - set(intents.intents)
        if missing:
            _LOG.warning("grammar %s: unknown intents %s", name, ", ".join(sorted(missing)))
        unspoken = set(intent_names) - missing - chosen
        if unspoken:
            _LOG.warning(
                "grammar %s: no spoken template for %s (text only)",
                name,
                ", ".join(sorted(unspoken)),
            )
    if not sentences:
        raise GrammarError(f"grammar {name!r} has no sentences")
    root = _alt(sentences)
    used = _reachable(root, rules)
    return CompiledGrammar(
        name=name,
        intents=frozenset(chosen),
        root=root,
        rules={k: v for k, v in rules.items() if k in used},
        meanings={k: _alt(v) for k, v in meanings.items()},
    )


def compile_state_grammars(
    intents: Intents,
    states: Mapping[str, Collection[str]],
    always: Collection[str] = (),
) -> dict[str, CompiledGrammar]:
    """One grammar per dialogue state; `always` intents (barge-in) join every state."""
    out: dict[str, CompiledGrammar] = {}
    for state, names in states.items():
        wanted = set(names) | set(always)
        present = wanted & set(intents.intents)
        if not present:
            _LOG.warning("state %s allows no known intent; it gets the full grammar", state)
            out[state] = compile_grammar(intents, None, name=state)
        else:
            out[state] = compile_grammar(intents, present, name=state)
    return out


def _reachable(root: Node, rules: Mapping[str, Node]) -> set[str]:
    seen: set[str] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            if node.name not in seen:
                seen.add(node.name)
                stack.append(rules[node.name])
        elif isinstance(node, Seq | Alt):
            stack.extend(node.items)
    return seen


def describe(grammar: CompiledGrammar) -> dict[str, Any]:
    """Small summary for logs."""
    return {
        "name": grammar.name,
        "intents": sorted(grammar.intents),
        "words": len(grammar.vocabulary),
        "sentences": grammar.sentence_count(),
    }
