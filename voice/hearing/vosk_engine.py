"""Vosk (Kaldi) behind the Recognizer protocol, in grammar mode.

The model is only ever loaded from a directory: `vosk.Model(lang=...)` would download one.
Each state's grammar becomes a JSON phrase list with "[unk]", so speech outside the grammar
lands on "[unk]" instead of being forced onto a command. Vosk still reports confidence 1.0
for in-grammar words heard in out-of-domain speech, which is why every result is verified
against the templates afterwards (verify.py), not trusted on its confidence.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from voice.hearing.audio_files import SAMPLE_RATE, Pcm
from voice.hearing.endpoint import Endpointer, EndpointSettings, speech_span
from voice.hearing.frontend import Frontend, FrontendSettings
from voice.hearing.grammar import CompiledGrammar, GrammarError
from voice.ports import Transcript

_LOG = logging.getLogger(__name__)

UNK = "[unk]"


class VoskRecognizer:
    """Recognizer (voice.ports) on a Vosk model directory with per-state phrase grammars."""

    def __init__(
        self,
        model_path: str | Path,
        grammars: Mapping[str, CompiledGrammar],
        *,
        frontend: FrontendSettings | None = None,
        endpoint: EndpointSettings | None = None,
        max_phrases: int = 2000,
        initial: str | None = None,
    ) -> None:
        if not grammars:
            raise GrammarError("no grammar given")
        import vosk

        vosk.SetLogLevel(-1)
        self._vosk = vosk
        path = Path(model_path)
        if not (path / "am" / "final.mdl").exists():
            raise FileNotFoundError(f"{path}: not a Vosk model directory")
        self._model = vosk.Model(str(path))
        self._grammars = dict(grammars)
        self._phrases = {
            name: json.dumps(g.vosk_phrases(max_phrases), ensure_ascii=False)
            for name, g in self._grammars.items()
        }
        self._current = initial or next(iter(self._grammars))
        self._rec = self._new_recognizer(self._current)
        self.frontend_settings = frontend or FrontendSettings()
        self.endpoint_settings = endpoint or EndpointSettings()
        self._frontend = Frontend(self.frontend_settings)
        self._endpointer = Endpointer(self.endpoint_settings)
        self._lock = threading.RLock()
        self._in_utt = False
        self._utt_start = 0.0
        self._partial = ""

    def _new_recognizer(self, name: str) -> Any:
        rec = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, self._phrases[name])
        rec.SetWords(True)
        return rec

    @property
    def grammar(self) -> str:
        return self._current

    @property
    def grammars(self) -> Mapping[str, CompiledGrammar]:
        return self._grammars

    def phrases(self, name: str) -> list[str]:
        result: list[str] = json.loads(self._phrases[name])
        return result

    def set_grammar(self, name: str) -> None:
        with self._lock:
            if name not in self._grammars:
                raise KeyError(f"unknown grammar {name!r}")
            if name == self._current:
                return
            # Switching drops a half-heard utterance: it was heard under the old state.
            self._rec.SetGrammar(self._phrases[name])
            self._rec.Reset()
            if self._in_utt:
                self._in_utt = False
                self._endpointer = Endpointer(self.endpoint_settings)
            self._current = name

    def accept(self, pcm: bytes) -> Transcript | None:
        with self._lock:
            result: Transcript | None = None
            for event in self._endpointer.feed(self._frontend.process(pcm)):
                done = self._on_event(event.kind, event.pcm, event.time)
                if done is not None:
                    result = done
            return result

    def partial(self) -> str:
        with self._lock:
            return self._partial

    def flush(self) -> Transcript | None:
        with self._lock:
            result: Transcript | None = None
            for event in self._endpointer.flush():
                done = self._on_event(event.kind, event.pcm, event.time)
                if done is not None:
                    result = done
            return result

    def reset(self) -> None:
        with self._lock:
            self._rec.Reset()
            self._in_utt = False
            self._partial = ""
            self._frontend.reset()
            self._endpointer = Endpointer(self.endpoint_settings)

    def close(self) -> None:
        """Nothing to release explicitly; the model is freed with the object."""

    def _on_event(self, kind: str, pcm: bytes, at: float) -> Transcript | None:
        if kind == "start":
            self._rec.Reset()
            self._in_utt = True
            self._utt_start = at
            self._partial = ""
        if not self._in_utt:
            return None
        if pcm and self._rec.AcceptWaveform(pcm):
            # Kaldi's own endpointer fired first (long pause inside our window): a result.
            done = self._parse(self._rec.Result(), self._utt_start, at)
            if done.text:
                self._in_utt = kind != "end"
                return done
        elif pcm:
            self._partial = str(json.loads(self._rec.PartialResult()).get("partial", ""))
        if kind == "end":
            self._in_utt = False
            self._partial = ""
            return self._parse(self._rec.FinalResult(), self._utt_start, at)
        return None

    @staticmethod
    def _parse(raw: str, start: float, end: float) -> Transcript:
        data = json.loads(raw)
        words_raw = data.get("result") or []
        words = [(str(w["word"]), float(w.get("conf", 1.0))) for w in words_raw]
        kept = [(w, c) for w, c in words if w != UNK]
        text = " ".join(w for w, _ in kept)
        if not kept:
            return Transcript(text="", confidence=0.0, words=tuple(words), start=start, end=end)
        # Unknown words around a command lower trust in it rather than void it.
        confidence = min(c for _, c in kept) * len(kept) / len(words)
        if words_raw:
            start = start + float(words_raw[0].get("start", 0.0))
            end = min(end, start + float(words_raw[-1].get("end", 0.0)))
        return Transcript(
            text=text, confidence=confidence, words=tuple(words), start=start, end=end
        )

    def decode(self, pcm: Pcm, *, gate: bool = True) -> Transcript:
        """Whole recording as one utterance (files, evaluation)."""
        with self._lock:
            frontend = Frontend(self.frontend_settings)
            cleaned = np.frombuffer(frontend.process(pcm.astype("<i2").tobytes()), dtype="<i2")
            start, end = 0, len(cleaned)
            if gate:
                span = speech_span(cleaned.astype(np.int16), self.endpoint_settings)
                if span is None:
                    return Transcript(text="", confidence=0.0)
                start, end = span
            self._rec.Reset()
            texts: list[Transcript] = []
            if self._rec.AcceptWaveform(cleaned[start:end].tobytes()):
                texts.append(self._parse(self._rec.Result(), 0.0, 0.0))
            texts.append(self._parse(self._rec.FinalResult(), 0.0, 0.0))
            words = tuple(w for t in texts for w in t.words)
            text = " ".join(t.text for t in texts if t.text)
            confs = [t.confidence for t in texts if t.text]
            return Transcript(
                text=text,
                confidence=min(confs) if confs else 0.0,
                words=words,
                start=start / SAMPLE_RATE,
                end=end / SAMPLE_RATE,
            )
