"""Live decoding and the early endpoint: a finished command is heard before the endpointer's
full trailing silence has passed; a command a longer sentence continues is not cut."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from voice.hearing.audio_files import SAMPLE_RATE, Pcm, chunked
from voice.hearing.endpoint import Endpointer, EndpointSettings
from voice.hearing.grammar import compile_grammar, compile_state_grammars, load_intents
from voice.hearing.pocketsphinx_engine import (
    EARLY_LOOKAHEAD_S,
    DecoderSettings,
    PocketSphinxRecognizer,
    SentenceCheck,
)
from voice.ports import Transcript

from .conftest import COACH_SENTENCES, StubRecognizer, loud_vad, silence, tone

COACH = COACH_SENTENCES
STATES = {"idle": {"StartRoutine"}, "hold": {"Pause", "Stop", "TimeLeft", "ReportPain"}}


@pytest.fixture(scope="module")
def intents(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("s") / "coach.yaml"
    path.write_text(COACH, encoding="utf-8")
    return load_intents(path)


# --- the grammar check --------------------------------------------------------------------


def test_sentence_check_tells_complete_commands_from_prefixes(intents) -> None:  # type: ignore[no-untyped-def]
    check = SentenceCheck(compile_grammar(intents, name="all"))
    assert check("how much time is left") == (True, False)
    # "pause the session" and "ouch that hurts" continue them, but mean the same
    assert check("pause") == (True, False)
    assert check("pause the session") == (True, False)
    assert check("ouch") == (True, False)
    assert check("that hurts") == (True, False)
    assert check("start the") == (False, True)
    assert check("start desk break routine") == (True, False)  # optional word left out
    assert check("start the desk") == (False, True)  # inside a slot value
    assert check("routine start") == (False, False)
    assert check("how much time is left please") == (False, False)


def test_a_continuation_that_changes_the_meaning_is_waited_for(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "other.yaml"
    path.write_text(
        "language: en\n"
        "intents:\n"
        "  Stop: {data: [{sentences: ['stop']}]}\n"
        "  StopMusic: {data: [{sentences: ['stop the music']}]}\n"
        "  Timer: {data: [{sentences: ['set a timer [for {minutes} minutes]', 'time it']}]}\n"
        "  Skip:\n"
        "    data:\n"
        "      - {sentences: ['skip [it]']}\n"
        "      - {sentences: ['skip back'], slots: {direction: back}}\n"
        "lists:\n"
        "  minutes: {range: {from: 1, to: 5}}\n",
        encoding="utf-8",
    )
    check = SentenceCheck(compile_grammar(load_intents(path), name="all"))
    assert check("stop") == (True, True)  # another intent continues it
    assert check("set a timer") == (True, True)  # the same intent, with a slot to come
    assert check("set a timer for two minutes") == (True, False)
    assert check("skip") == (True, True)  # "skip back" has a fixed slot of its own
    assert check("time it") == (True, False)


# --- the endpointer and the streaming base ---------------------------------------------------


def test_audio_events_carry_their_time_and_the_silence_so_far() -> None:
    ep = Endpointer(EndpointSettings(trailing_silence_s=0.5), vad=loud_vad)
    events = list(ep.feed(bytes(9600) + tone(0.6) + bytes(32000)))
    audio = [e for e in events if e.kind == "audio"]
    assert all(b.time > a.time for a, b in zip(audio, audio[1:], strict=False))
    assert audio[0].silence_s == 0.0
    assert audio[-1].silence_s == pytest.approx(0.51, abs=0.01)  # the frame that ends it
    assert events[-1].kind == "end"


def test_cut_ends_the_utterance_and_the_next_one_starts_afresh() -> None:
    ep = Endpointer(EndpointSettings(trailing_silence_s=0.5), vad=loud_vad)
    kinds = []
    for event in ep.feed(tone(0.5) + bytes(6400) + tone(0.5) + bytes(32000)):
        kinds.append(event.kind)
        if event.kind == "audio" and event.silence_s >= 0.15:
            ep.cut()
    assert [k for k in kinds if k != "audio"] == ["start", "start"]
    assert not ep.in_speech and list(ep.flush()) == []


class EarlyFake(StubRecognizer):
    """Says "early" once an utterance has had 0.15 s of silence: the base's side of it."""

    END_TEXT = "late"

    def _decoder_early(self, at: float, silence_s: float) -> Transcript | None:
        return Transcript("early", end=at - silence_s) if silence_s >= 0.15 else None


def test_an_early_result_closes_the_utterance_once() -> None:
    rec = EarlyFake()
    results = []
    stream = tone(0.5) + bytes(32000) + tone(0.5) + bytes(32000)
    for i in range(0, len(stream), 960):
        out = rec.accept(stream[i : i + 960])
        if out is not None:
            results.append(out)
    assert [r.text for r in results] == ["early", "early"] and rec.ended == 0
    assert results[0].end == pytest.approx(0.51, abs=0.04)
    assert rec.flush() is None


# --- PocketSphinx, live ------------------------------------------------------------------------

pytest.importorskip("pocketsphinx")


@pytest.fixture(scope="module")
def rec(intents):  # type: ignore[no-untyped-def]
    r = PocketSphinxRecognizer(compile_state_grammars(intents, STATES), initial="hold")
    yield r
    r.close()


def stream(rec: PocketSphinxRecognizer, audio: Pcm) -> list[tuple[Transcript, float]]:
    """Results with the stream time at which each came back."""
    rec.reset()
    out = []
    for i, chunk in enumerate(chunked(audio, 30)):
        result = rec.accept(chunk)
        if result is not None and result.text:
            out.append((result, (i + 1) * 0.03))
    last = rec.flush()
    if last is not None and last.text:
        out.append((last, len(audio) / SAMPLE_RATE))
    return out


def speech_end(pcm: Pcm, offset: float) -> float:
    loud = np.nonzero(np.abs(pcm.astype(float)) > 0.02 * np.abs(pcm).max())[0]
    return offset + (loud[-1] + 1) / SAMPLE_RATE


def test_a_finished_command_comes_back_before_the_trailing_silence(
    rec: PocketSphinxRecognizer, flite: Callable[..., Pcm]
) -> None:
    rec.set_grammar("hold")
    speech = flite("how much time is left")
    heard = stream(rec, np.concatenate([silence(0.5), speech, silence(1.5)]))
    assert [r.text for r, _ in heard] == ["how much time is left"]
    result, at = heard[0]
    waited = at - speech_end(speech, 0.5)
    settings = rec.endpoint_settings
    assert waited < settings.trailing_silence_s, waited  # the endpointer alone: 0.65-0.76 s
    assert result.confidence >= rec.decoder_settings.early_min_confidence


def test_a_finished_command_is_scored_before_its_silence_is_enough(
    rec: PocketSphinxRecognizer, flite: Callable[..., Pcm], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phone loop's pass runs while the deciding silence still comes in, not after it."""
    rec.set_grammar("hold")
    quiet_when_scored: list[float | None] = []
    score = rec._loop_score

    def spy(audio: bytes) -> float:
        quiet_when_scored.append(rec._quiet_after_words())
        return score(audio)

    monkeypatch.setattr(rec, "_loop_score", spy)
    speech = flite("how much time is left", voice="slt")
    heard = stream(rec, np.concatenate([silence(0.5), speech, silence(1.5)]))
    assert [r.text for r, _ in heard] == ["how much time is left"]
    wait = rec.endpoint_settings.early_silence_s
    assert len(quiet_when_scored) == 1 and quiet_when_scored[0] is not None
    assert wait - EARLY_LOOKAHEAD_S <= quiet_when_scored[0] < wait
    assert heard[0][0].confidence >= rec.decoder_settings.early_min_confidence


def test_a_command_a_longer_one_continues_waits_for_the_trailing_silence(
    rec: PocketSphinxRecognizer, flite: Callable[..., Pcm]
) -> None:
    rec.set_grammar("hold")
    speech = flite("pause")
    heard = stream(rec, np.concatenate([silence(0.5), speech, silence(1.5)]))
    assert [r.text for r, _ in heard] == ["pause"]
    waited = heard[0][1] - speech_end(speech, 0.5)
    assert waited >= rec.endpoint_settings.trailing_silence_s


def test_a_short_pause_inside_a_command_does_not_split_it(
    rec: PocketSphinxRecognizer, flite: Callable[..., Pcm]
) -> None:
    rec.set_grammar("hold")
    # flite pads each phrase (~0.11 s after, ~0.23 s before): a pause of ~0.4 s, longer
    # than the early endpoint's silence, shorter than the endpointer's.
    audio = np.concatenate([silence(0.5), flite("ouch"), silence(0.05), flite("that hurts")])
    heard = stream(rec, np.concatenate([audio, silence(1.5)]))
    assert [r.text for r, _ in heard] == ["ouch that hurts"]


def test_without_early_endpoint_the_trailing_silence_ends_it(
    intents,  # type: ignore[no-untyped-def]
    flite: Callable[..., Pcm],
) -> None:
    rec = PocketSphinxRecognizer(
        compile_state_grammars(intents, STATES),
        initial="hold",
        endpoint=EndpointSettings(early_silence_s=0.0),
    )
    speech = flite("how much time is left")
    heard = stream(rec, np.concatenate([silence(0.5), speech, silence(1.5)]))
    rec.close()
    assert [r.text for r, _ in heard] == ["how much time is left"]
    assert heard[0][1] - speech_end(speech, 0.5) >= 0.5


def test_live_and_whole_utterance_decoding_hear_the_first_command_alike(
    intents,  # type: ignore[no-untyped-def]
    flite: Callable[..., Pcm],
) -> None:
    """The first command of a stream: live CMN from the model's guess misheard it."""
    grammars = compile_state_grammars(intents, STATES)
    audio = np.concatenate([silence(0.5), flite("how much time is left"), silence(1.0)])
    texts = []
    for live in (True, False):
        r = PocketSphinxRecognizer(
            grammars, initial="hold", decoder=DecoderSettings(live_decode=live)
        )
        texts.append([t.text for t, _ in stream(r, audio)])
        r.close()
    assert texts[0] == texts[1] == ["how much time is left"]


def test_only_the_active_grammar_is_kept_unless_preloaded(intents) -> None:  # type: ignore[no-untyped-def]
    grammars = compile_state_grammars(intents, STATES)
    r = PocketSphinxRecognizer(grammars, initial="hold")
    assert r._loaded == {grammars["hold"].name}
    r.set_grammar("idle")
    assert r._loaded == {grammars["idle"].name}
    r.close()
    r = PocketSphinxRecognizer(
        grammars, initial="hold", decoder=DecoderSettings(preload_grammars=True)
    )
    assert r._loaded == {g.name for g in grammars.values()}
    r.close()


def test_a_continued_command_may_end_early_after_a_longer_silence(
    intents,  # type: ignore[no-untyped-def]
    flite: Callable[..., Pcm],
) -> None:
    rec = PocketSphinxRecognizer(
        compile_state_grammars(intents, STATES),
        initial="hold",
        endpoint=EndpointSettings(continued_silence_s=0.3),
        decoder=DecoderSettings(early_min_confidence=0.0),  # flite's "pause" scores ~0.45
    )
    speech = flite("pause")
    heard = stream(rec, np.concatenate([silence(0.5), speech, silence(1.5)]))
    rec.close()
    assert [r.text for r, _ in heard] == ["pause"]
    assert heard[0][1] - speech_end(speech, 0.5) < rec.endpoint_settings.trailing_silence_s


def test_engine_options_reach_the_endpoint_settings() -> None:
    import argparse

    from voice.hearing.cli_options import add_engine_options, engine_spec

    parser = argparse.ArgumentParser()
    add_engine_options(parser)
    spec = engine_spec(parser.parse_args(["--early-silence", "0.25", "--continued-silence", "0.4"]))
    assert (spec.endpoint.early_silence_s, spec.endpoint.continued_silence_s) == (0.25, 0.4)
    assert engine_spec(parser.parse_args([])).endpoint.continued_silence_s == 0.0


def test_no_early_endpoint_while_the_vad_still_hears_speech(
    rec: PocketSphinxRecognizer, flite: Callable[..., Pcm]
) -> None:
    """The search may file speech it cannot match under silence; the VAD must agree."""
    rec.set_grammar("hold")
    rec.reset()
    audio = np.concatenate([silence(0.5), flite("how much time is left"), silence(0.4)])
    for chunk in chunked(audio, 30):
        if rec._in_utt:  # straight to the decoder: neither endpoint may end it here
            rec._decoder_feed(chunk, 0.0)
        else:
            rec.accept(chunk)
    assert rec._live_open and rec._decoder_early(2.0, 0.0) is None
    assert rec._decoder_early(2.0, 0.09) is not None  # the same moment, the VAD silent
    rec.reset()


def test_noise_floor_gate_hears_speech_above_a_running_noise_not_the_noise() -> None:
    from voice.hearing.endpoint import FRAME_BYTES, NoiseFloorGate

    rng = np.random.default_rng(0)
    samples = FRAME_BYTES // 2

    def frame(level: float) -> bytes:
        return (rng.standard_normal(samples) * level).astype("<i2").tobytes()

    gate = NoiseFloorGate(lambda _frame: True, margin_db=12.0, window_s=3.0)  # a VAD fooled
    noise = [gate(frame(300.0)) for _ in range(100)]
    assert not any(noise[10:])  # once the floor is known, the noise is not speech
    assert all(gate(frame(6000.0)) for _ in range(10))  # 26 dB above it is
    quiet = NoiseFloorGate(lambda _frame: False, margin_db=12.0)
    assert not quiet(frame(6000.0))  # loud is not enough: the VAD must agree


def test_the_endpointer_ends_commands_in_running_noise() -> None:
    """A steady noise under two commands: each ends on its own (the VAD alone would hear the
    noise as speech and never end)."""
    rng = np.random.default_rng(1)

    def noise(seconds: float) -> bytes:
        return (rng.standard_normal(int(SAMPLE_RATE * seconds)) * 300).astype("<i2").tobytes()

    def noisy_tone(seconds: float) -> bytes:
        t = np.frombuffer(tone(seconds), dtype="<i2").astype(np.float64)
        n = np.frombuffer(noise(seconds), dtype="<i2").astype(np.float64)
        return (t * 0.3 + n).astype("<i2").tobytes()

    always = lambda _frame: True  # noqa: E731 - a VAD that calls everything speech
    from voice.hearing.endpoint import NoiseFloorGate

    ep = Endpointer(EndpointSettings(), vad=NoiseFloorGate(always, 12.0))
    stream = noise(3.0) + noisy_tone(0.8) + noise(2.0) + noisy_tone(0.8) + noise(2.0)
    kinds = [e.kind for e in ep.feed(stream) if e.kind != "audio"]
    assert kinds == ["start", "end", "start", "end"]


def test_over_the_coach_a_command_ends_on_the_search_s_own_silence(
    rec: PocketSphinxRecognizer, flite: Callable[..., Pcm]
) -> None:
    """What is left of the coach's voice keeps the VAD hearing speech after a "pause" said
    over it; while the coach plays the search's silence after the sentence ends it instead."""
    rec.set_grammar("hold")
    command = flite("pause")
    leak = flite("keep breathing slowly and let your hips sink to the floor", "slt") * 0.1
    audio = np.concatenate([silence(0.5), command, leak.astype(np.int16), silence(1.5)])
    leak_end = 0.5 + (len(command) + len(leak)) / SAMPLE_RATE
    try:
        rec.set_coach_playing(True)
        over = stream(rec, audio)
    finally:
        rec.set_coach_playing(False)
    quiet = stream(rec, audio)
    assert over and over[0][0].text == "pause" and over[0][1] < leak_end - 2.0, over
    assert not [at for r, at in quiet if r.text == "pause" and at < leak_end], quiet
