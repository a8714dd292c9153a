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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voice.hearing.audio_files import SAMPLE_RATE, Pcm
from voice.hearing.endpoint import EndpointSettings
from voice.hearing.frontend import FrontendSettings
from voice.hearing.grammar import CompiledGrammar
from voice.hearing.streaming import StreamingRecognizer
from voice.ports import Transcript

_LOG = logging.getLogger(__name__)

UNK = "[unk]"


class VoskRecognizer(StreamingRecognizer):
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
        super().__init__(grammars, frontend=frontend, endpoint=endpoint, initial=initial)
        import vosk

        vosk.SetLogLevel(-1)
        self._vosk = vosk
        path = Path(model_path)
        if not (path / "am" / "final.mdl").exists():
            raise FileNotFoundError(f"{path}: not a Vosk model directory")
        self._model = vosk.Model(str(path))
        self._phrases = {
            name: json.dumps(g.vosk_phrases(max_phrases), ensure_ascii=False)
            for name, g in self._grammars.items()
        }
        self._rec = self._new_recognizer(self._current)

    def _new_recognizer(self, name: str) -> Any:
        rec = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, self._phrases[name])
        rec.SetWords(True)
        return rec

    def phrases(self, name: str) -> list[str]:
        result: list[str] = json.loads(self._phrases[name])
        return result

    # --- the decoder side of StreamingRecognizer ---------------------------------------------

    def _decoder_switch(self, name: str) -> None:
        self._rec.SetGrammar(self._phrases[name])
        self._rec.Reset()

    def _decoder_reset(self) -> None:
        self._rec.Reset()

    def _decoder_begin(self) -> None:
        self._rec.Reset()

    def _decoder_feed(self, pcm: bytes, at: float) -> Transcript | None:
        if self._rec.AcceptWaveform(pcm):
            # Kaldi's own endpointer fired first (long pause inside our window): a result.
            done = self._parse(self._rec.Result(), self._utt_start, at)
            return done if done.text else None
        self._partial = str(json.loads(self._rec.PartialResult()).get("partial", ""))
        return None

    def _decoder_end(self, at: float) -> Transcript:
        return self._parse(self._rec.FinalResult(), self._utt_start, at)

    # --- results ---------------------------------------------------------------------------

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
            speech = self._speech(pcm, gate)
            if speech is None:
                return Transcript(text="", confidence=0.0)
            cleaned, start, end, _ = speech
            self._in_utt = False
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
