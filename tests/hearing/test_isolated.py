"""The recognizer in its own process: same results, the GIL stays free, a crash is survivable."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from voice.hearing.audio_files import Pcm, chunked
from voice.hearing.engines import EngineSpec
from voice.hearing.grammar import compile_state_grammars
from voice.hearing.isolated import IsolatedRecognizer, RecognizerFailed
from voice.hearing.listener import BARGE_IN
from voice.ports import Reconsiders, Transcript

pytest.importorskip("pocketsphinx")


@pytest.fixture(scope="module")
def grammars():  # type: ignore[no-untyped-def]
    from intents.templates import build_intents
    from voice.appcontent import get_content

    intents = build_intents(get_content(None))
    return compile_state_grammars(intents, {"hold": {"TimeLeft"}}, always=BARGE_IN)


def _decode(rec: IsolatedRecognizer, pcm: Pcm) -> list[Transcript]:
    out = [t for chunk in chunked(pcm) if (t := rec.accept(chunk)) is not None]
    last = rec.flush()
    return out + ([last] if last is not None else [])


def test_hears_in_a_child_process_and_leaves_the_gil_free(
    grammars: Any, flite: Callable[..., Pcm]
) -> None:
    import numpy as np

    rec = IsolatedRecognizer(EngineSpec(engine="pocketsphinx"), grammars)
    try:
        assert rec.pid is not None and rec.pid != os.getpid()
        rec.set_grammar("hold")
        speech = np.concatenate(
            [np.zeros(8000, np.int16), flite("how much time is left"), np.zeros(16000, np.int16)]
        )
        ticks = [0]
        done = threading.Event()

        def tick() -> None:
            while not done.is_set():
                time.sleep(0.001)
                ticks[0] += 1

        threading.Thread(target=tick, daemon=True).start()
        started = time.monotonic()
        heard = _decode(rec, speech)
        busy = time.monotonic() - started
        done.set()
        assert [t.text for t in heard] == ["how much time is left"]
        # Another thread ran all along (it would be starved if decoding held the GIL here).
        assert ticks[0] >= 0.3 * busy / 0.0015
        # A quiet room: RNNoise did not run, so there is no second look to take.
        assert isinstance(rec, Reconsiders) and rec.reconsider() is None
    finally:
        rec.close()
    assert not rec.alive


def test_a_crashed_decoder_is_one_clear_failure(grammars) -> None:  # type: ignore[no-untyped-def]
    rec = IsolatedRecognizer(EngineSpec(engine="pocketsphinx"), grammars)
    try:
        assert rec.pid is not None
        os.kill(rec.pid, signal.SIGKILL)
        with pytest.raises(RecognizerFailed, match="died"):
            for _ in range(50):
                rec.accept(b"\0" * 3200)
    finally:
        rec.close()


def test_a_decoder_that_cannot_be_built_says_why(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RecognizerFailed, match="cannot build the recognizer"):
        IsolatedRecognizer(EngineSpec(engine="vosk", vosk_model=str(tmp_path / "none")), {})
