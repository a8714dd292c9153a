"""What every engine here shares: one grammar per coach state, and the front end and
endpointer in front of the decoder, behind the Recognizer protocol.

An engine subclasses `StreamingRecognizer` and supplies the decoder side: how to switch its
search, and how to begin, feed and end one utterance. Utterance boundaries come from our
endpointer, not the engine's, so both engines hear exactly the same speech.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np

from voice.hearing.audio_files import SAMPLE_RATE, Pcm
from voice.hearing.endpoint import Endpointer, EndpointSettings, Event, speech_span
from voice.hearing.frontend import Frontend, FrontendSettings
from voice.hearing.grammar import CompiledGrammar, GrammarError
from voice.ports import Transcript


class Speech(NamedTuple):
    """A recording's speech for whole-file decoding (StreamingRecognizer._speech)."""

    cleaned: Pcm
    start: int
    end: int
    raw: bytes | None


class StreamingRecognizer:
    """Recognizer (voice.ports) bookkeeping; subclasses implement the `_decoder_*` hooks."""

    def __init__(
        self,
        grammars: Mapping[str, CompiledGrammar],
        *,
        frontend: FrontendSettings | None,
        endpoint: EndpointSettings | None,
        initial: str | None,
        keep_raw_s: float = 0.0,
    ) -> None:
        if not grammars:
            raise GrammarError("no grammar given")
        self._grammars = dict(grammars)
        self._current = initial or next(iter(self._grammars))
        if self._current not in self._grammars:
            raise KeyError(f"unknown grammar {self._current!r}")
        self.frontend_settings = frontend or FrontendSettings()
        self.endpoint_settings = endpoint or EndpointSettings()
        self._keep_raw_s = keep_raw_s
        self._frontend = Frontend(self.frontend_settings, keep_raw_s=keep_raw_s)
        self._endpointer = Endpointer(self.endpoint_settings)
        # accept() runs on the listening thread, set_grammar() on the coach's.
        self._lock = threading.RLock()
        self._in_utt = False
        self._utt_start = 0.0
        self._partial = ""
        self._coach_playing = False
        self._utt_first = 0  # the open utterance's first sample in the front end's output
        self._waiting: list[bytes] = []  # audio not yet processed, between utterances
        self._waiting_bytes = 0

    # --- the decoder side ---------------------------------------------------------------------

    def _decoder_switch(self, name: str) -> None:
        """Make `name` the active grammar; an open utterance is dropped afterwards."""
        raise NotImplementedError

    def _decoder_reset(self) -> None:
        """Forget any open utterance."""
        raise NotImplementedError

    def _decoder_begin(self) -> None:
        raise NotImplementedError

    def _decoder_feed(self, pcm: bytes, at: float) -> Transcript | None:
        """Decode speech; may return a result early (an engine's own endpoint fired)."""
        raise NotImplementedError

    def _decoder_end(self, at: float) -> Transcript:
        raise NotImplementedError

    def _decoder_early(self, at: float, silence_s: float) -> Transcript | None:
        """After each frame of an open utterance (`at` its end, `silence_s` the VAD's
        non-speech run so far): the result, if the engine can tell the command is finished
        before the endpointer's trailing silence has passed. By default it cannot."""
        return None

    def close(self) -> None:
        """Release what the engine holds outside Python (none by default)."""

    def reconsider(self) -> Transcript | None:
        """The last result decoded again from another version of its audio (Reconsiders in
        voice.ports), or None when there is none to try. By default there is none."""
        return None

    # --- Recognizer protocol ----------------------------------------------------------------

    @property
    def grammar(self) -> str:
        return self._current

    @property
    def grammars(self) -> Mapping[str, CompiledGrammar]:
        return self._grammars

    def set_grammar(self, name: str) -> None:
        with self._lock:
            if name not in self._grammars:
                raise KeyError(f"unknown grammar {name!r}")
            if name == self._current:
                return
            self._decoder_switch(name)
            self._forget_last()
            # A half-heard utterance was heard under the old state: it is dropped. The
            # endpointer keeps its clock: results' times are stream seconds, which the
            # listener maps onto the echo canceller's audio (a new endpointer restarted them
            # at 0, and over the coach "ouch" was then judged on the wrong audio).
            if self._in_utt:
                self._in_utt = False
                self._endpointer.cut()
            self._current = name

    def set_coach_playing(self, playing: bool) -> None:
        """The coach's own voice is (or is no longer) in the audio; see `coach_playing`."""
        with self._lock:
            self._coach_playing = playing

    @property
    def coach_playing(self) -> bool:
        """While the coach plays, what is left of its voice after echo cancellation can keep
        the VAD hearing speech after a command said over it: an engine that can tell a
        finished command may then end it without the VAD's silence."""
        return self._coach_playing

    def accept(self, pcm: bytes) -> Transcript | None:
        with self._lock:
            pcm = self._batched(pcm)
            return self._process(pcm) if pcm else None

    def partial(self) -> str:
        with self._lock:
            return self._partial

    def flush(self) -> Transcript | None:
        with self._lock:
            waiting = self._take_waiting()
            result = self._process(waiting) if waiting else None
            return self._run(self._endpointer.flush()) or result

    def reset(self) -> None:
        with self._lock:
            self._take_waiting()
            self._decoder_reset()
            self._in_utt = False
            self._partial = ""
            self._frontend.reset()
            self._endpointer = Endpointer(self.endpoint_settings)

    # --- shared internals -----------------------------------------------------------------------

    def _process(self, pcm: bytes) -> Transcript | None:
        cleaned, detect = self._frontend.process_pair(pcm)
        return self._run(self._endpointer.feed(cleaned, detect))

    def _batched(self, pcm: bytes) -> bytes:
        """What to process now: between utterances, audio waits until `idle_batch_s` of it
        has come; in one, every block goes at once, so that its end is heard without delay.

        Each wake-up pays for bringing the decoder's memory back into the cache: the cost
        bench's kitchen stream took 20% of a core at microphone pace in 30 ms blocks against
        15% fed all at once. Waiting while nobody speaks took the quiet stream's recognizer
        process from about 6% to 5%. Only the start of speech waits, and the endpointer's
        preroll holds what came before it.
        """
        batch = round(self.endpoint_settings.idle_batch_s * SAMPLE_RATE) * 2
        self._waiting.append(pcm)
        self._waiting_bytes += len(pcm)
        if self._in_utt or self._waiting_bytes >= batch:
            return self._take_waiting()
        return b""

    def _take_waiting(self) -> bytes:
        waiting = b"".join(self._waiting)
        self._waiting.clear()
        self._waiting_bytes = 0
        return waiting

    def _run(self, events: Iterable[Event]) -> Transcript | None:
        """The last result among the events: the protocol returns one per call, so callers
        feed chunks shorter than the trailing silence that ends an utterance."""
        result: Transcript | None = None
        for event in events:
            done = self._on_event(event.kind, event.pcm, event.time, event.silence_s)
            if done is not None:
                result = done
        return result

    def _on_event(
        self, kind: str, pcm: bytes, at: float, silence_s: float = 0.0
    ) -> Transcript | None:
        if kind == "start":
            self._decoder_begin()
            self._in_utt = True
            self._utt_start = at
            self._utt_first = round(at * SAMPLE_RATE)
            self._partial = ""
        if not self._in_utt:
            return None
        early = self._decoder_feed(pcm, at) if pcm else None
        if early is None and kind == "audio":
            early = self._decoder_early(at, silence_s)
            if early is not None:  # the engine ended it: the endpointer looks for the next
                self._in_utt = False
                self._partial = ""
                self._endpointer.cut()
                return early
        if kind != "end":
            return early
        self._in_utt = False
        self._partial = ""
        return early if early is not None else self._decoder_end(at)

    def _forget_last(self) -> None:
        """The last result was heard under another grammar: it is not reconsidered."""

    def _raw_utterance(self, audio: bytes) -> bytes | None:
        """The open utterance's `audio` (the front end's output since its start) as it came
        in, unprocessed; None unless RNNoise ran on it (quiet, the two hardly differ)."""
        first = self._utt_first
        return self._frontend.raw(first, first + len(audio) // 2)

    def decoder_input(self, pcm: Pcm, *, gate: bool = True) -> Pcm | None:
        """What `decode` hands the decoder for this recording: its cleaned speech span."""
        speech = self._speech(pcm, gate)
        return None if speech is None else speech.cleaned[speech.start : speech.end]

    def _speech(self, pcm: Pcm, gate: bool) -> Speech | None:
        """For whole-file decoding: the cleaned recording, the sample span to decode, from
        the first speech to the last (None when there is no speech at all), and that span
        unprocessed when it is kept (see `_raw_utterance`)."""
        keep = len(pcm) / SAMPLE_RATE + 1.0 if self._keep_raw_s > 0.0 else 0.0
        frontend = Frontend(self.frontend_settings, keep_raw_s=keep)
        out, detect = frontend.process_pair(pcm.astype("<i2").tobytes())
        cleaned: Pcm = np.frombuffer(out, dtype="<i2").astype(np.int16)
        heard: Pcm = np.frombuffer(detect, dtype="<i2")
        span = (
            speech_span(cleaned, self.endpoint_settings, detect=heard)
            if gate
            else (0, len(cleaned))
        )
        if span is None:
            return None
        return Speech(cleaned, span[0], span[1], frontend.raw(*span))
