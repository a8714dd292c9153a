"""PocketSphinx 5 behind the Recognizer protocol: the built-in engine, no download needed.

Each grammar becomes a JSGF search; switching state switches the active search. The
dictionary is cut down to the grammars' words (loading all of CMUdict costs a second and
memory for nothing). Audio goes front end -> VAD endpointer -> decoder, so the decoder only
ever sees speech.
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

from voice.hearing.audio_files import SAMPLE_RATE, Pcm
from voice.hearing.endpoint import EndpointSettings
from voice.hearing.frontend import FrontendSettings
from voice.hearing.grammar import CompiledGrammar, GrammarError
from voice.hearing.streaming import StreamingRecognizer
from voice.ports import Transcript

_LOG = logging.getLogger(__name__)


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
    extra: Mapping[str, Any] = field(default_factory=dict)


PHONE_LOOP = "_phone_loop"
NBEST_TRIES = 5
# Slope of the logistic that maps ln(grammar score / phone-loop score) to a confidence:
# in-grammar speech measured 1.1-3x the phone loop's score, other speech 0.8-0.95x.
CONFIDENCE_SLOPE = 8.0


def model_dir() -> Path:
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us"


def load_pronunciations(
    words: Iterable[str], dict_path: Path | None = None
) -> dict[str, list[str]]:
    """Dictionary lines for the words; alternates ("word(2)") come along."""
    wanted = set(words)
    found: dict[str, list[str]] = {}
    path = dict_path or model_dir() / "cmudict-en-us.dict"
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            head, _, phones = line.strip().partition(" ")
            base = head.split("(", 1)[0]
            if base in wanted:
                found.setdefault(base, []).append(phones.strip())
    return found


class PocketSphinxRecognizer(StreamingRecognizer):
    """Recognizer (voice.ports) on PocketSphinx with per-state JSGF grammars.

    Each endpointed utterance is buffered and decoded whole when it ends, as files are:
    decoding it live normalises the cepstrum with a running mean that starts from the
    model's guess, and the first command of a session (measured: "how much time is left"
    heard as "ah my butt on the glute") and the confidence of every later one suffer for it.
    So there is no partial result, and the decoder is never inside an utterance between
    calls: a grammar can be switched at any time.
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
        super().__init__(grammars, frontend=frontend, endpoint=endpoint, initial=initial)
        import pocketsphinx

        self._ps = pocketsphinx
        self.decoder_settings = decoder or DecoderSettings()
        self._extra = dict(extra_pronunciations or {})
        self._dict_file = self._write_dictionary(self._grammars.values())
        self._decoder = self._make_decoder()
        for g in self._grammars.values():
            self._decoder.add_jsgf_string(g.name, g.to_jsgf())
        if self.decoder_settings.phone_loop_confidence:
            self._decoder.add_allphone_file(PHONE_LOOP, str(model_dir() / "en-us-phone.lm.bin"))
        self._utt_audio: list[bytes] = []
        self._decoder.activate_search(self._grammars[self._current].name)

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
        params.update(s.extra)
        config = self._ps.Config(**params)
        return self._ps.Decoder(config)

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

    # --- the decoder side of StreamingRecognizer ---------------------------------------------

    def _decoder_switch(self, name: str) -> None:
        self._decoder.activate_search(self._grammars[name].name)

    def _decoder_reset(self) -> None:
        self._utt_audio = []

    def _decoder_begin(self) -> None:
        self._utt_audio = []

    def _decoder_feed(self, pcm: bytes, at: float) -> Transcript | None:
        self._utt_audio.append(pcm)
        return None

    def _decoder_end(self, at: float) -> Transcript:
        audio, self._utt_audio = b"".join(self._utt_audio), []
        self._decoder.start_utt()
        self._decoder.process_raw(audio, False, True)
        self._decoder.end_utt()
        return self._result(self._utt_start, at, audio, partial=self.decoder_settings.live_nbest)

    # --- results ---------------------------------------------------------------------------

    def _result(self, start: float, end: float, audio: bytes, *, partial: bool) -> Transcript:
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
        for seg in (self._decoder.seg() or ()) if hyp is not None else ():
            word = seg.word
            # Silence, fillers and the Viterbi path's "(NULL)" transitions are not words.
            if not word or word.startswith(("<", "[", "(")):
                continue
            word = word.split("(", 1)[0]
            words.append((word, float(min(1.0, logmath.exp(seg.prob)))))
        if not text:
            confidence = 0.0
        elif self.decoder_settings.phone_loop_confidence and score > 0.0:
            confidence = self._phone_loop_confidence(score, audio)
        else:
            confidence = float(min(1.0, logmath.exp(hyp.prob))) if hyp is not None else 1.0
        if not complete:
            confidence *= 0.5  # a partial path is half-trusted at best
        if words:
            words = [(w, confidence) for w, _ in words]
        return Transcript(
            text=text, confidence=confidence, words=tuple(words), start=start, end=end
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

    def _phone_loop_confidence(self, grammar_score: float, audio: bytes) -> float:
        """Logistic of ln(grammar path score / phone-loop score) on the same audio.

        Scores are PocketSphinx's per-frame-normalised path scores (1.0 = the best senone
        in every frame). A phone loop can follow any speech; a grammar only its sentences,
        so a grammar path scoring well below the loop means the words were not said.
        """
        grammar = self._grammars[self._current].name
        try:
            self._decoder.activate_search(PHONE_LOOP)
            self._decoder.start_utt()
            self._decoder.process_raw(audio, False, True)
            self._decoder.end_utt()
            loop = self._decoder.hyp()
        finally:
            self._decoder.activate_search(grammar)
        loop_score = float(loop.score) if loop is not None else 0.0
        if loop_score <= 0.0 or grammar_score <= 0.0:
            return 1.0
        ratio = math.log(grammar_score) - math.log(loop_score)
        return 1.0 / (1.0 + math.exp(-CONFIDENCE_SLOPE * ratio))

    def decode(self, pcm: Pcm, *, gate: bool = True) -> Transcript:
        """Whole-utterance decoding of one recording (files, evaluation).

        The whole file is one command, so it is decoded as one utterance from the first
        speech to the last (pauses inside do not split it).
        """
        with self._lock:
            self._in_utt = False
            self._utt_audio = []
            speech = self._speech(pcm, gate)
            if speech is None:
                return Transcript(text="", confidence=0.0)
            cleaned, start, end = speech
            audio = cleaned[start:end].tobytes()
            self._decoder.start_utt()
            self._decoder.process_raw(audio, False, True)
            self._decoder.end_utt()
            return self._result(start / SAMPLE_RATE, end / SAMPLE_RATE, audio, partial=True)
