"""PocketSphinx 5 behind the Recognizer protocol: the built-in engine, no download needed.

Each grammar becomes an FSG search over its minimal word automaton (voice.hearing.word_graph;
PocketSphinx's own JSGF conversion with `word_graph=False`); only the active state's is kept
in the decoder (3-10 MB each), so switching state builds the new one (20-80 ms here). The
dictionary is cut down to the grammars' words (loading all of CMUdict costs a second and
memory for nothing). Audio goes front end -> VAD endpointer -> decoder, so the decoder only
ever sees speech; it is decoded as it arrives, so only the tail is left when speech ends.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voice.hearing.audio_files import SAMPLE_RATE, Pcm
from voice.hearing.endpoint import EndpointSettings
from voice.hearing.frontend import FrontendSettings
from voice.hearing.grammar import (
    SLOT_RULE_PREFIX,
    CompiledGrammar,
    GrammarError,
    Node,
    Ref,
    Seq,
    Word,
)
from voice.hearing.streaming import StreamingRecognizer
from voice.hearing.word_graph import WordGraph, word_graph
from voice.ports import Transcript

_LOG = logging.getLogger(__name__)
ADAPTED_MODEL = Path(__file__).parent / "data" / "en-us-adapted.mllr"


@dataclass(frozen=True)
class DecoderSettings:
    """PocketSphinx search settings; the defaults are the ones measured best on barista-dev.

    `bestpath` and the n-best fallback both make PocketSphinx build a word lattice, and
    building it is the cost that has no bound: on out-of-grammar speech (barista-dev orders
    against the coach's hold grammar) a lattice cost up to 4 s of CPU per second of audio,
    with bestpath 3.4 s on average, and one clipped 0.7 s file took 65 s. The Viterbi pass
    alone stayed under 0.25 (clean) and 0.7 (12 dB) on the same speech.
    """

    beam: float = 1e-48
    wbeam: float = 7e-29
    pbeam: float = 1e-48
    maxhmmpf: int = 30000
    fsgusefiller: bool = True
    # Off: lattice rescoring bought no accuracy on barista-dev (`eval --limit 60`, benchmark
    # rule: clean 95.0% with it, 96.7% without; 12 dB 76.7% both) for 3-4x the CPU
    # (clean 0.048 vs 0.017, 12 dB 0.67 vs 0.16 s per audio s).
    bestpath: bool = False
    # FSG posteriors are always ~1.0, so confidence comes from comparing the grammar path's
    # score with a free phone loop's on the same audio (costs a second, cheaper pass).
    phone_loop_confidence: bool = True
    # When no path reaches the grammar's end, take the best partial path from the n-best
    # list. Whole files (transcribe, eval) always do: the recording runs on into noise, and
    # it was worth 8 points at 12 dB (68% vs 60%). Live utterances, ended by the endpointer,
    # gained nothing from it (barista-dev at 12 dB: 23 of 33 accepted either way) while its
    # lattice doubled the CPU on commands in noise and took talk that is no command to 1.2 s
    # of CPU per audio second.
    live_nbest: bool = False
    # Decode live utterances as the audio arrives (grammar and phone loop both), with the
    # cepstral mean primed (see PocketSphinxRecognizer); off: buffer each utterance and
    # decode it whole when it ends (0.3-0.6 s after the endpoint for a 1-2.5 s command).
    live_decode: bool = True
    # An early endpoint (EndpointSettings.early_silence_s) needs at least this confidence.
    early_min_confidence: float = 0.6
    # ... and this much while the coach plays. Its voice left in the audio lowers the
    # person's scores ("ouch that hurts" 0.56-0.66, "pause it" 0.39-0.52 in the audio room),
    # and the listener judges the result against its own floors anyway: ending early over
    # the coach only decides when the command is over, not whether it counts.
    early_min_confidence_over_coach: float = 0.3
    # Search each grammar as its minimal word automaton (voice.hearing.word_graph) rather than
    # PocketSphinx's own JSGF conversion, which fills it with null transitions.
    word_graph: bool = True
    # Keep every state's compiled grammar in the decoder (switches are instant, 40-50 MB
    # each) instead of only the active one.
    preload_grammars: bool = False
    # Keep each utterance as it came in, so that `reconsider` can decode it unprocessed when
    # RNNoise ran on it (voice.hearing.second_look).
    second_look: bool = True
    # A global MLLR transform of the acoustic model (voice.hearing.adaptation): a file
    # PocketSphinx reads with -mllr; None or "" for the model as shipped. The default was
    # adapted on barista-dev's 296 real recordings after RNNoise, clean and with kitchen
    # noise (`make adapt-model`). Adapted on one half and measured on the other, it heard
    # 257 of 296 at 6 dB against 245, 275 against 272 at 12 dB, the same clean (2-fold
    # cross-validation; docs/BENCHMARKS.md).
    mllr: str | None = str(ADAPTED_MODEL)
    extra: Mapping[str, Any] = field(default_factory=dict)


PHONE_LOOP = "_phone_loop"
NBEST_TRIES = 5
# Slope of the logistic that maps ln(grammar score / phone-loop score) to a confidence:
# in-grammar speech measured 1.1-3x the phone loop's score, other speech 0.8-0.95x.
CONFIDENCE_SLOPE = 8.0
# Live decoding starts once an utterance has this much audio (pre-roll included), normalised
# with the mean of that audio; the mean is measured again each time the utterance has grown
# by CHECK_GROWTH, and the search restarts on the audio so far when the mean has moved more
# than MAX_DRIFT in any coefficient (a restart costs a search of the audio so far).
PROBE_S = 0.6
CHECK_GROWTH = 2.0
MAX_DRIFT = 3.0
LAST_CHECK_S = 1.2
# The early check scores a complete command this long before its silence is enough.
EARLY_LOOKAHEAD_S = 0.1
BYTES_PER_S = SAMPLE_RATE * 2
FILLER_PREFIXES = ("<", "[", "(")
FRAME_S = 0.01  # PocketSphinx's frame rate
UNMATCHED_DB = 6.0  # a silence frame this close to the words' median level is speech
# Unprocessed audio kept for a second look: longer than the longest utterance (10 s).
RAW_HISTORY_S = 12.0


@dataclass(frozen=True)
class _Heard:
    """The last utterance's span and its unprocessed audio, for `reconsider`."""

    raw: bytes
    start: float
    end: float
    partial: bool


@dataclass(frozen=True)
class _EarlyScore:
    """The early check's verdict on one hypothesis of the open utterance."""

    text: str
    confidence: float
    confident: bool  # enough to end the utterance early
    loop: float
    mean: list[float]


def _malloc_trim() -> None:
    """Hand the memory of a dropped grammar back to the system (glibc keeps it otherwise)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class SentenceCheck:
    """Is a word sequence a whole sentence of a grammar, and could a longer one still change
    what it means?

    For the early endpoint: "stop" is a command, but a pause after it may be the middle of
    "stop the music". When every sentence that continues it means the same (the same intent
    and data block, and no slot value still to come: "pause" / "pause the session"), the rest
    cannot change the command, so it need not be waited for.
    """

    MORE = -1  # a match ran out of words inside a sentence
    MORE_SLOT = -2  # ... and what is left of that sentence holds a slot value

    def __init__(self, grammar: CompiledGrammar) -> None:
        self._grammar = grammar
        self._cache: dict[str, tuple[bool, bool]] = {}
        self._slots: dict[int, bool] = {}

    def __call__(self, text: str) -> tuple[bool, bool]:
        """(complete, continued): text is a sentence / a proper prefix of a longer one that
        may mean something else."""
        if text not in self._cache:
            self._cache[text] = self._check(tuple(text.split()))
        return self._cache[text]

    def _check(self, words: tuple[str, ...]) -> tuple[bool, bool]:
        memo: dict[tuple[int, int], frozenset[int]] = {}
        roots = self._grammar.meanings or {"": self._grammar.root}
        complete: set[str] = set()
        continuing: set[str] = set()
        slot_to_come = False
        for meaning, node in roots.items():
            ends = self._ends(node, words, 0, memo, frozenset())
            if len(words) in ends:
                complete.add(meaning)
            if self.MORE in ends or self.MORE_SLOT in ends:
                continuing.add(meaning)
            slot_to_come = slot_to_come or self.MORE_SLOT in ends
        same = len(complete) == 1 and continuing <= complete and not slot_to_come
        return bool(complete), bool(continuing) and not same

    def _ends(
        self,
        node: Node,
        words: tuple[str, ...],
        i: int,
        memo: dict[tuple[int, int], frozenset[int]],
        active: frozenset[str],
    ) -> frozenset[int]:
        key = (id(node), i)
        if key in memo:
            return memo[key]
        out: set[int] = set()
        if isinstance(node, Word):
            if i == len(words):
                out.add(self.MORE)
            elif words[i] == node.text:
                out.add(i + 1)
        elif isinstance(node, Ref):
            if i == len(words) and self._has_slot(node):
                out.add(self.MORE_SLOT)
            elif node.name not in active and node.name in self._grammar.rules:
                body = self._grammar.rules[node.name]
                out |= self._ends(body, words, i, memo, active | {node.name})
        elif isinstance(node, Seq):
            positions = {i}
            for item in node.items:
                nxt: set[int] = set()
                for pos in positions:
                    if pos == self.MORE and self._has_slot(item):
                        nxt.add(self.MORE_SLOT)
                    elif pos < 0:
                        nxt.add(pos)
                    else:
                        nxt |= self._ends(item, words, pos, memo, active)
                positions = nxt
                if not positions:
                    break
            out = positions
        else:
            for item in node.items:
                out |= self._ends(item, words, i, memo, active)
        memo[key] = frozenset(out)
        return memo[key]

    def _has_slot(self, node: Node) -> bool:
        """Whether a tree reaches a slot list (compiled as a `list_` rule)."""
        if id(node) not in self._slots:
            self._slots[id(node)] = _has_slots(node, self._grammar)
        return self._slots[id(node)]


def model_dir() -> Path:
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us"


def load_pronunciations(
    words: Iterable[str], dict_path: Path | None = None
) -> dict[str, list[str]]:
    """Dictionary lines for the words; alternates ("word(2)") come along.

    Template words lose their apostrophes ("dont", "thats"): a word the dictionary lacks
    takes the pronunciation of its form with one ("don't"), not a guess.
    """
    wanted = set(words)
    found: dict[str, list[str]] = {}
    apostrophed: dict[str, list[str]] = {}
    path = dict_path or model_dir() / "cmudict-en-us.dict"
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            head, _, phones = line.strip().partition(" ")
            base = head.split("(", 1)[0]
            if base in wanted:
                found.setdefault(base, []).append(phones.strip())
            elif "'" in base and (bare := base.replace("'", "")) in wanted:
                apostrophed.setdefault(bare, []).append(phones.strip())
    for word, lines in apostrophed.items():
        found.setdefault(word, lines)
    return found


class PocketSphinxRecognizer(StreamingRecognizer):
    """Recognizer (voice.ports) on PocketSphinx with per-state JSGF grammars.

    Live utterances are searched as their audio arrives, so when the endpointer ends one
    only its tail and the phone-loop pass for the confidence are left (decoding whole
    utterances at their end, as files are and as `live_decode=False` still does, cost
    0.3-0.6 s after every endpoint).

    The search normalises the cepstrum with a fixed mean. Started from the model's guess
    it misheard the first command of a stream ("how much time is left" as "ah my butt on
    the glute"), and once a decoder has searched live, its whole-utterance CMN starts from
    the mean it was given too. So a second decoder that runs only the front end (the probe)
    measures the mean a whole-utterance decode would use: the search starts once an
    utterance has PROBE_S of audio, on that audio's mean, and starts again on the audio so
    far when the mean has moved by more than MAX_DRIFT at the next check (the utterance
    twice as long). On flite-slt commands this heard and accepted the same as whole
    utterances (24 / 15 of 44, confidence 0.07 lower on average).

    The phone loop (a third decoder) still runs on the whole utterance at its end: run
    live, its score drifted from the whole-utterance one the confidence is calibrated on.

    With an early endpoint (EndpointSettings.early_silence_s), a live utterance ends as
    soon as the search's best path is a complete sentence that no longer sentence of another
    meaning continues (SentenceCheck), followed by that much silence, with good confidence:
    the endpointer's full trailing silence is only waited for when it is not.
    """

    def __init__(
        self,
        grammars: Mapping[str, CompiledGrammar],
        *,
        decoder: DecoderSettings | None = None,
        frontend: FrontendSettings | None = None,
        endpoint: EndpointSettings | None = None,
        extra_pronunciations: Mapping[str, list[str]] | None = None,
        initial: str | None = None,
    ) -> None:
        settings = decoder or DecoderSettings()
        keep = RAW_HISTORY_S if settings.second_look else 0.0
        super().__init__(
            grammars, frontend=frontend, endpoint=endpoint, initial=initial, keep_raw_s=keep
        )
        import pocketsphinx

        self._ps = pocketsphinx
        self.decoder_settings = settings
        self._extra = dict(extra_pronunciations or {})
        self._dict_file = self._write_dictionary(self._grammars.values())
        self._decoder = self._make_decoder()
        self._loaded: set[str] = set()
        self._graphs: dict[str, WordGraph] = {}
        if self.decoder_settings.preload_grammars:
            for g in self._grammars.values():
                self._add_search(g)
        self._load(self._current)
        self._loop: Any = None
        if self.decoder_settings.phone_loop_confidence:
            self._loop = self._make_decoder()
            self._loop.add_allphone_file(PHONE_LOOP, str(model_dir() / "en-us-phone.lm.bin"))
            self._loop.activate_search(PHONE_LOOP)
        self._checks: dict[str, SentenceCheck] = {}
        self._probe: Any = None
        if self.decoder_settings.live_decode:
            # Measures the cepstral mean of the audio so far (front end only, no search).
            # Ending its utterance searches every frame: a one-word grammar costs nothing.
            self._probe = self._make_decoder()
            word = min(self._grammars[self._current].vocabulary)
            self._probe.add_jsgf_string(
                "probe", f"#JSGF V1.0;\ngrammar probe;\npublic <w> = {word};\n"
            )
            self._probe.activate_search("probe")
        # The cepstral mean a whole-utterance decode starts from: the model's guess, then
        # where the last utterance left it (whole-utterance CMN here depends on it).
        self._prior = str(self._decoder.get_cmn(False))
        self._utt_audio: list[bytes] = []
        self._live_open = False
        self._utt_bytes = 0
        self._next_check = 0.0
        self._early_scored: _EarlyScore | None = None  # the hypothesis the early check scored
        self._used_mean: list[float] = []
        self._last: _Heard | None = None

    # --- setup ----------------------------------------------------------------------------

    def _make_decoder(self) -> Any:
        s = self.decoder_settings
        params: dict[str, Any] = {
            "hmm": str(model_dir() / "en-us"),
            "dict": self._dict_file,
            "lm": None,
            "samprate": SAMPLE_RATE,
            "beam": s.beam,
            "wbeam": s.wbeam,
            "pbeam": s.pbeam,
            "maxhmmpf": s.maxhmmpf,
            "fsgusefiller": s.fsgusefiller,
            "bestpath": s.bestpath,
            "loglevel": "FATAL",  # "no final state" is handled, not news
        }
        if s.mllr:
            params["mllr"] = s.mllr
        params.update(s.extra)
        try:
            return self._ps.Decoder(self._ps.Config(**params))
        except (RuntimeError, KeyError, ValueError) as err:
            # PocketSphinx says only "Failed to initialize": name what it was given.
            given = ", ".join(f"{k}={v}" for k, v in s.extra.items())
            extra = f" (options: {given})" if given else ""
            raise ValueError(f"PocketSphinx would not start{extra}: {err}") from err

    @property
    def dictionary(self) -> str:
        """The pronunciation file written for this recognizer's grammars."""
        return self._dict_file

    def _write_dictionary(self, grammars: Iterable[CompiledGrammar]) -> str:
        words: set[str] = set()
        for g in grammars:
            words |= g.vocabulary
        prons = load_pronunciations(words)
        for word, phones in self._extra.items():
            prons.setdefault(word, []).extend(phones)
        missing = sorted(words - prons.keys())
        if missing:
            from voice.hearing.g2p import guess_pronunciations

            guessed = guess_pronunciations(missing)
            for word, guess in guessed.items():
                prons[word] = [guess]
            still = [w for w in missing if w not in guessed]
            if still:
                raise GrammarError(
                    "no pronunciation for: "
                    + ", ".join(still[:20])
                    + " (install espeak-ng, or rephrase the templates)"
                )
            _LOG.info("guessed pronunciations for %s", ", ".join(missing))
        fd, path = tempfile.mkstemp(prefix="stretch-coach-", suffix=".dict")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for word in sorted(prons):
                for i, line in enumerate(prons[word]):
                    head = word if i == 0 else f"{word}({i + 1})"
                    fh.write(f"{head} {line}\n")
        return path

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._dict_file)

    def _load(self, name: str) -> None:
        """Make `name`'s grammar the active search; unless preloaded, drop the previous one."""
        search = self._grammars[name].name
        if search not in self._loaded:
            self._add_search(self._grammars[name])
        self._decoder.activate_search(search)
        if not self.decoder_settings.preload_grammars:
            dropped = self._loaded - {search}
            for old in dropped:
                self._decoder.remove_search(old)
            self._loaded = {search}
            if dropped:
                _LOG.debug("grammar %s built, %s dropped", search, ", ".join(sorted(dropped)))
                _malloc_trim()

    def _add_search(self, grammar: CompiledGrammar) -> None:
        if self.decoder_settings.word_graph:
            # Built once per grammar: only the active search is kept, and states come back.
            graph = self._graphs.get(grammar.name)
            if graph is None:
                graph = self._graphs[grammar.name] = word_graph(grammar)
            fsg = self._decoder.create_fsg(
                grammar.name, graph.start, graph.final, graph.transitions()
            )
            self._decoder.add_fsg(grammar.name, fsg)
        else:
            self._decoder.add_jsgf_string(grammar.name, grammar.to_jsgf())
        self._loaded.add(grammar.name)

    # --- the decoder side of StreamingRecognizer ---------------------------------------------

    def _close_live(self) -> None:
        if self._live_open:
            self._live_open = False
            with contextlib.suppress(RuntimeError):
                self._decoder.end_utt()

    def _decoder_switch(self, name: str) -> None:
        self._close_live()  # a search cannot change inside an utterance
        self._load(name)

    def _decoder_reset(self) -> None:
        self._close_live()
        self._utt_audio = []
        self._last = None

    def _decoder_begin(self) -> None:
        self._close_live()
        self._utt_audio = []
        self._utt_bytes = 0
        self._next_check = PROBE_S * BYTES_PER_S
        self._early_scored = None

    def _decoder_feed(self, pcm: bytes, at: float) -> Transcript | None:
        self._utt_audio.append(pcm)
        self._utt_bytes += len(pcm)
        if not self.decoder_settings.live_decode or self._utt_bytes < self._next_check:
            if self._live_open:
                self._search(pcm)
            return None
        # Commands are short: past the last check, talk and noise are not searched again.
        self._next_check = (
            self._next_check * CHECK_GROWTH
            if self._next_check < LAST_CHECK_S * BYTES_PER_S
            else math.inf
        )
        if not self._live_open:
            self._go_live(self._utt_mean())
        else:
            self._search(pcm)
            mean = self._utt_mean()
            if _drift(mean, self._used_mean) > MAX_DRIFT:
                self._go_live(mean)
        return None

    def _search(self, pcm: bytes) -> None:
        self._decoder.process_raw(pcm, False, False)

    def _utt_mean(self, *, ended: bool = False) -> list[float]:
        """The cepstral mean a whole-utterance decode of the audio so far would use; until
        the utterance has `ended`, the pre-roll's silence stands in for the trailing silence
        still to come."""
        audio = b"".join(self._utt_audio)
        pad = b"" if ended else audio[: int(self.endpoint_settings.preroll_s * BYTES_PER_S) & ~1]
        return self._mean_of(audio + pad)

    def _mean_of(self, audio: bytes) -> list[float]:
        """The cepstral mean a whole-utterance decode of `audio` would use."""
        probe = self._probe
        probe.set_cmn(self._prior)  # as the whole-utterance decode would start
        probe.start_utt()
        probe.process_raw(audio, True, True)  # front end only, no search
        try:
            mean = [float(v) for v in str(probe.get_cmn(False)).split(",")]
        finally:
            probe.end_utt()
        return mean

    def _go_live(self, mean: list[float]) -> None:
        """(Re)start the live search on the utterance so far, normalised with `mean`."""
        self._close_live()
        audio = b"".join(self._utt_audio)
        cmn = _cmn_text(mean)
        self._decoder.set_cmn(cmn)
        self._decoder.start_utt()
        self._decoder.process_raw(audio, False, False)
        self._used_mean = mean
        self._live_open = True

    def _decoder_end(self, at: float) -> Transcript:
        if self.decoder_settings.live_decode:
            mean = self._utt_mean(ended=True)
            if not self._live_open:  # shorter than the probe: searched now, on its own mean
                self._go_live(mean)
            return self._end_live(self._utt_start, at, mean)
        audio, self._utt_audio = b"".join(self._utt_audio), []
        self._decoder.start_utt()
        self._decoder.process_raw(audio, False, True)
        self._decoder.end_utt()
        loop = self._loop_score(audio)
        partial = self.decoder_settings.live_nbest
        self._remember(self._raw_utterance(audio), self._utt_start, at, partial)
        return self._result(self._utt_start, at, loop, partial=partial, audio=audio)

    def _end_live(
        self,
        start: float,
        end: float,
        mean: list[float],
        loop: float | None = None,
        confidence: float | None = None,
    ) -> Transcript:
        self._live_open = False
        audio, self._utt_audio = b"".join(self._utt_audio), []
        self._remember(self._raw_utterance(audio), start, end, self.decoder_settings.live_nbest)
        self._prior = _cmn_text(mean)
        self._decoder.end_utt()
        if loop is None:
            hyp = self._decoder.hyp()
            heard = hyp is not None and bool(hyp.hypstr.strip())
            # No sentence, nothing to score: noise that held the endpointer open costs no
            # second pass.
            wanted = heard or self.decoder_settings.live_nbest
            loop = self._loop_score(audio) if wanted else 0.0
        partial = self.decoder_settings.live_nbest
        return self._result(start, end, loop, partial=partial, audio=audio, confidence=confidence)

    def _decoder_early(self, at: float, silence_s: float) -> Transcript | None:
        wait = self.endpoint_settings.early_silence_s
        over_coach = self.coach_playing
        # The VAD must hear silence too: the search's best path can put speech it cannot
        # match into silence and fillers ("start the quick" ended before "routine" was said).
        # Not while the coach plays: what is left of its voice keeps the VAD on to the end of
        # its line (in CI that held "ouch that hurts" open for 2 s, until the coach had said
        # it all), so there the search's own silence after a sentence has to do.
        if not self._live_open or wait <= 0.0 or (silence_s <= 0.0 and not over_coach):
            return None
        hyp = self._decoder.hyp()
        text = hyp.hypstr.strip() if hyp is not None else ""
        # The phone loop is asked once per utterance, or over the coach once per hypothesis.
        scored = self._early_scored
        if not text or (scored is not None and scored.text != text and not over_coach):
            return None
        check = self._checks.get(self._current)
        if check is None:
            check = self._checks[self._current] = SentenceCheck(self._grammars[self._current])
        complete, continued = check(text)
        if continued:
            wait = self.endpoint_settings.continued_silence_s
        if not complete or wait <= 0.0:
            return None
        quiet_s = self._quiet_after_words()
        # Scored a little ahead of the decision when the search's silence after the words is
        # still short: the phone loop's pass (60 ms for a short command) is then not added to
        # the wait. Often the VAD hears silence only once the search has had enough of it.
        if quiet_s is None or quiet_s < wait - EARLY_LOOKAHEAD_S:
            return None
        if scored is None or scored.text != text:
            scored = self._early_scored = self._early_score(text, float(hyp.score), over_coach)
        if not scored.confident or quiet_s < wait:
            return None
        return self._end_live(
            self._utt_start, at - quiet_s, scored.mean, scored.loop, scored.confidence
        )

    def _early_score(self, text: str, score: float, over_coach: bool) -> _EarlyScore:
        """The confidence of the best path so far, and whether it is enough to end early."""
        mean = self._utt_mean(ended=True)
        loop = self._loop_score(b"".join(self._utt_audio))
        confidence = _confidence(score, loop)
        settings = self.decoder_settings
        floor = (
            settings.early_min_confidence_over_coach
            if over_coach
            else settings.early_min_confidence
        )
        return _EarlyScore(text, confidence, confidence >= floor, loop, mean)

    def _quiet_after_words(self) -> float | None:
        """Seconds the search's best path has spent past its last word (None: no word)."""
        last_end = None
        for seg in self._decoder.seg() or ():
            if seg.word and not seg.word.startswith(FILLER_PREFIXES):
                last_end = seg.end_frame
        if last_end is None:
            return None
        return float(self._decoder.n_frames() - 1 - last_end) * FRAME_S

    # --- a second look (voice.hearing.second_look) -------------------------------------------

    def _remember(self, raw: bytes | None, start: float, end: float, partial: bool) -> None:
        self._last = _Heard(raw, start, end, partial) if raw is not None else None

    def _forget_last(self) -> None:
        self._last = None

    def reconsider(self) -> Transcript | None:
        """The last utterance decoded again as it came in, before RNNoise and WebRTC; None
        when RNNoise did not run on it, or it was already reconsidered. Same grammar, same
        span, same confidence measure."""
        with self._lock:
            last, self._last = self._last, None
            if last is None or self._live_open:
                return None
            streams = self._probe is not None
            if streams:
                self._decoder.set_cmn(_cmn_text(self._mean_of(last.raw)))
            self._decoder.start_utt()
            # A decoder that searches live must be fed as a stream: a whole-utterance call
            # on one crashed PocketSphinx in the next utterance's search.
            self._decoder.process_raw(last.raw, False, not streams)
            self._decoder.end_utt()
            loop = self._loop_score(last.raw)
            return self._result(last.start, last.end, loop, partial=last.partial, audio=last.raw)

    # --- results ---------------------------------------------------------------------------

    def _result(
        self,
        start: float,
        end: float,
        loop_score: float,
        *,
        partial: bool,
        audio: bytes,
        confidence: float | None = None,
    ) -> Transcript:
        """`confidence` given: the early check's, scored on the audio its loop score saw."""
        hyp = self._decoder.hyp()
        text = hyp.hypstr.strip() if hyp is not None else ""
        score = float(hyp.score) if hyp is not None and text else 0.0
        complete = bool(text)
        if not text and partial:
            # No path reached the grammar's end (speech ran on into noise). The best partial
            # path is still evidence: verification keeps its longest complete prefix.
            text, score = self._best_partial()
        logmath = self._decoder.logmath
        words: list[tuple[str, float]] = []
        segs = list(self._decoder.seg() or ()) if hyp is not None else []
        for seg in segs:
            word = seg.word
            # Silence, fillers and the Viterbi path's "(NULL)" transitions are not words.
            if not word or word.startswith(FILLER_PREFIXES):
                continue
            word = word.split("(", 1)[0]
            words.append((word, float(min(1.0, logmath.exp(seg.prob)))))
        if not text:
            confidence = 0.0
        elif confidence is not None:
            pass
        elif self.decoder_settings.phone_loop_confidence and score > 0.0:
            confidence = _confidence(score, loop_score)
        else:
            confidence = float(min(1.0, logmath.exp(hyp.prob))) if hyp is not None else 1.0
        if not complete:
            confidence *= 0.5  # a partial path is half-trusted at best
        if words:
            words = [(w, confidence) for w, _ in words]
        unmatched, trailing = _speech_outside_words(
            [(seg.word, seg.start_frame, seg.end_frame) for seg in segs], audio
        )
        return Transcript(
            text=text,
            confidence=confidence,
            words=tuple(words),
            start=start,
            end=end,
            unmatched_s=unmatched,
            trailing_s=trailing,
        )

    def _best_partial(self) -> tuple[str, float]:
        try:
            # None when no lattice could be built; entries are None where a path is missing.
            nbest = self._decoder.nbest() or ()
            # A noisy lattice has a long n-best list; the first few entries are the useful ones.
            for best in itertools.islice(nbest, NBEST_TRIES):
                if best is not None and best.hypstr:
                    return str(best.hypstr).strip(), float(best.score)
        except (RuntimeError, ValueError):
            pass
        return "", 0.0

    def _loop_score(self, audio: bytes) -> float:
        """The phone loop's path score on a whole utterance (0.0 without a phone loop)."""
        if self._loop is None:
            return 0.0
        self._loop.start_utt()
        self._loop.process_raw(audio, False, True)
        self._loop.end_utt()
        loop = self._loop.hyp()
        return float(loop.score) if loop is not None else 0.0

    def decode(self, pcm: Pcm, *, gate: bool = True) -> Transcript:
        """Whole-utterance decoding of one recording (files, evaluation).

        The whole file is one command, so it is decoded as one utterance from the first
        speech to the last (pauses inside do not split it).
        """
        with self._lock:
            self._in_utt = False
            self._close_live()
            self._utt_audio = []
            speech = self._speech(pcm, gate)
            if speech is None:
                return Transcript(text="", confidence=0.0)
            cleaned, start, end, raw = speech
            audio = cleaned[start:end].tobytes()
            self._remember(raw, start / SAMPLE_RATE, end / SAMPLE_RATE, True)
            if self.decoder_settings.live_decode:
                # Once live, this decoder's whole-utterance CMN runs on the mean it was
                # given: give it the whole recording's.
                self._utt_audio = [audio]
                mean = self._utt_mean(ended=True)
                self._go_live(mean)
                self._live_open = False
                self._utt_audio = []
                self._prior = _cmn_text(mean)
            else:
                self._decoder.start_utt()
                self._decoder.process_raw(audio, False, True)
            self._decoder.end_utt()
            loop = self._loop_score(audio)
            return self._result(
                start / SAMPLE_RATE, end / SAMPLE_RATE, loop, partial=True, audio=audio
            )


def _speech_outside_words(segs: list[tuple[str, int, int]], audio: bytes) -> tuple[float, float]:
    """Speech no word accounts for: the most in one gap between the first and last word,
    and all of it after the last word (frames of a silence or filler segment, or of no
    segment, within UNMATCHED_DB of the words' median level)."""
    spans = [(a, b) for word, a, b in segs if word and not word.startswith(FILLER_PREFIXES)]
    if not spans:
        return 0.0, 0.0
    energy = _frame_db(audio)
    said = [energy[a : b + 1] for a, b in spans if a < len(energy)]
    if not said:
        return 0.0, 0.0
    loud = float(np.median(np.concatenate(said))) - UNMATCHED_DB
    first, last = spans[0][0], spans[-1][1]
    most = 0
    for word, a, b in segs:
        if word.startswith(FILLER_PREFIXES) and a > first and b < last:
            most = max(most, int(np.count_nonzero(energy[a : b + 1] >= loud)))
    after = int(np.count_nonzero(energy[last + 1 :] >= loud))
    return most * FRAME_S, after * FRAME_S


def _frame_db(audio: bytes) -> npt.NDArray[np.float64]:
    """Level (dB) of each of PocketSphinx's frames: 25.6 ms windows every 10 ms."""
    x = np.frombuffer(audio, dtype="<i2").astype(np.float64)
    hop, win = SAMPLE_RATE // 100, int(0.0256 * SAMPLE_RATE)
    n = max(0, (len(x) - win) // hop + 1)
    if n == 0:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop][:n]
    return np.asarray(10.0 * np.log10(np.mean(frames**2, axis=1) + 1.0), dtype=np.float64)


def _cmn_text(mean: list[float]) -> str:
    """A cepstral mean as PocketSphinx's set_cmn takes it."""
    return ",".join(f"{v:.3f}" for v in mean)


def _drift(a: list[float], b: list[float]) -> float:
    """How far apart two cepstral means are (largest coefficient difference)."""
    if len(a) != len(b):
        return math.inf
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def _confidence(grammar_score: float, loop_score: float) -> float:
    """Logistic of ln(grammar path score / phone-loop score) on the same audio.

    Scores are PocketSphinx's per-frame-normalised path scores (1.0 = the best senone in
    every frame). A phone loop can follow any speech; a grammar only its sentences, so a
    grammar path scoring well below the loop means the words were not said.
    """
    if loop_score <= 0.0 or grammar_score <= 0.0:
        return 1.0
    ratio = math.log(grammar_score) - math.log(loop_score)
    return 1.0 / (1.0 + math.exp(-CONFIDENCE_SLOPE * ratio))


def _has_slots(node: Node, grammar: CompiledGrammar) -> bool:
    """Whether a sentence tree reaches a slot list (compiled as a `list_` rule)."""
    seen: set[str] = set()
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Ref):
            if item.name.startswith(SLOT_RULE_PREFIX):
                return True
            if item.name not in seen and item.name in grammar.rules:
                seen.add(item.name)
                stack.append(grammar.rules[item.name])
        elif not isinstance(item, Word):
            stack.extend(item.items)
    return False
