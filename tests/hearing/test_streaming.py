"""The shared streaming side of every engine: when audio reaches the front end and decoder."""

from __future__ import annotations

from voice.hearing.endpoint import EndpointSettings
from voice.hearing.streaming import StreamingRecognizer
from voice.ports import Transcript

from .conftest import StubRecognizer, tone

BLOCK = 960  # 30 ms of 16-bit samples: what the microphone hands over


def feed(rec: StreamingRecognizer, audio: bytes) -> list[Transcript]:
    out = (rec.accept(audio[i : i + BLOCK]) for i in range(0, len(audio), BLOCK))
    return [r for r in out if r is not None]


def test_between_utterances_audio_is_processed_in_batches() -> None:
    rec = StubRecognizer()
    feed(rec, bytes(BLOCK * 9))
    assert rec.processed == [BLOCK * 3] * 3  # 90 ms at a time, nothing lost


def test_inside_an_utterance_every_block_is_processed_at_once() -> None:
    rec = StubRecognizer()
    feed(rec, tone(0.6))
    assert rec._in_utt
    before = len(rec.processed)
    feed(rec, bytes(BLOCK))
    assert len(rec.processed) == before + 1 and rec.processed[-1] == BLOCK


def test_the_end_of_speech_is_heard_without_waiting_for_a_batch() -> None:
    batched, unbatched = StubRecognizer(), StubRecognizer(EndpointSettings(idle_batch_s=0.0))
    stream = bytes(BLOCK * 10) + tone(0.6) + bytes(BLOCK * 30)
    ends = [[r.end for r in feed(rec, stream)] for rec in (batched, unbatched)]
    assert len(ends[0]) == 1 and ends[0] == ends[1]
    assert all(n == BLOCK for n in unbatched.processed)


def test_flush_processes_the_audio_still_waiting() -> None:
    rec = StubRecognizer()
    speech = tone(0.15)  # five blocks: one batch of three goes, two wait
    assert feed(rec, speech) == [] and rec.processed == [BLOCK * 3]
    result = rec.flush()
    assert rec.processed == [BLOCK * 3, BLOCK * 2]
    assert result is not None and result.text == "heard"


def test_reset_forgets_the_audio_still_waiting() -> None:
    rec = StubRecognizer()
    feed(rec, bytes(BLOCK * 2))
    rec.reset()
    feed(rec, bytes(BLOCK))
    assert rec.processed == []
