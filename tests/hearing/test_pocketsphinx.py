"""PocketSphinx from audio to intents: synthetic speech made now, plus real recordings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from voice.hearing.audio_files import SAMPLE_RATE, Pcm, chunked, read_audio
from voice.hearing.evaluate import Item, is_correct
from voice.hearing.frontend import Frontend, FrontendSettings
from voice.hearing.grammar import compile_grammar, compile_state_grammars, load_intents
from voice.hearing.listener import MAX_TRAILING_S
from voice.hearing.pocketsphinx_engine import PocketSphinxRecognizer, load_pronunciations
from voice.hearing.verify import Verifier

from .conftest import BARISTA_SENTENCES, COACH_SENTENCES, silence

pytest.importorskip("pocketsphinx")

COACH = COACH_SENTENCES
STATES = {"idle": {"StartRoutine"}, "hold": {"Pause", "Stop", "TimeLeft"}}


@pytest.fixture(scope="module")
def coach(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("s") / "coach.yaml"
    path.write_text(COACH, encoding="utf-8")
    intents = load_intents(path)
    rec = PocketSphinxRecognizer(compile_state_grammars(intents, STATES), initial="hold")
    yield rec, Verifier(intents)
    rec.close()


@pytest.mark.parametrize(
    ("state", "text", "intent", "slots"),
    [
        ("hold", "pause the session", "Pause", {}),
        ("hold", "how much time is left", "TimeLeft", {}),
        ("idle", "start the desk break routine", "StartRoutine", {"routine": "desk_break"}),
    ],
)
def test_synthetic_speech_to_intent(
    coach: tuple[PocketSphinxRecognizer, Verifier],
    flite: Callable[..., Pcm],
    state: str,
    text: str,
    intent: str,
    slots: dict[str, str],
) -> None:
    rec, verifier = coach
    rec.set_grammar(state)
    result = rec.decode(np.concatenate([silence(0.3), flite(text), silence(0.3)]))
    verdict = verifier.check(result, STATES[state])
    assert verdict.accepted, (result, verdict)
    assert (verdict.intent, verdict.slots) == (intent, slots)
    assert [w for w, _ in result.words] == result.text.split()
    assert result.unmatched_s <= 0.1  # a command as said: every word accounted for


def test_talk_the_grammar_skips_over_is_not_a_command(  # type: ignore[no-untyped-def]
    coach, flite: Callable[..., Pcm]
) -> None:
    rec, verifier = coach
    rec.set_grammar("hold")
    talk = [flite("how much"), flite("of the garden needs water and"), flite("time is left")]
    result = rec.decode(np.concatenate([silence(0.3), *talk, silence(0.3)]))
    # The grammar finds its sentence in the words around the talk and files the talk as
    # silence, between its words or after them: the words are a command, the audio is not.
    assert result.text == "how much time is left"
    between = result.unmatched_s > verifier.max_unmatched_s
    assert between or result.trailing_s > MAX_TRAILING_S, result
    if between:
        verdict = verifier.check(result, STATES["hold"])
        assert not verdict.accepted and "between its words" in verdict.reason


def test_streaming_two_commands_with_endpointing(coach, flite: Callable[..., Pcm]) -> None:  # type: ignore[no-untyped-def]
    rec, _ = coach
    rec.set_grammar("hold")
    rec.reset()
    audio = np.concatenate(
        [silence(0.5), flite("pause"), silence(1.0), flite("how long is left"), silence(1.0)]
    )
    finals = []
    for chunk in chunked(audio, 100):
        result = rec.accept(chunk)
        if result is not None:
            finals.append(result)
    assert rec.flush() is None  # both ended by trailing silence, nothing left open
    assert [f.text for f in finals] == ["pause", "how long is left"]
    assert finals[0].end < finals[1].start


def test_grammar_switch_mid_utterance_drops_it_and_keeps_hearing(
    coach: tuple[PocketSphinxRecognizer, Verifier], flite: Callable[..., Pcm]
) -> None:
    """The coach changes state whenever it likes, also while the user is speaking."""
    rec, _ = coach
    rec.set_grammar("hold")
    rec.reset()
    speech = flite("how much time is left")
    for chunk in chunked(np.concatenate([silence(0.5), speech[: len(speech) // 2]]), 100):
        assert rec.accept(chunk) is None
    assert rec._in_utt  # mid-utterance
    rec.set_grammar("idle")  # raised "Failed to stop utterance processing" before
    assert not rec._in_utt and rec.grammar == "idle"
    finals = []
    rest = np.concatenate([speech[len(speech) // 2 :], silence(1.0)])
    before = (int(0.5 * SAMPLE_RATE) + len(speech)) / SAMPLE_RATE  # all fed before the command
    audio = np.concatenate([rest, flite("start the morning routine"), silence(1.0)])
    for chunk in chunked(audio, 100):
        result = rec.accept(chunk)
        if result is not None and result.text:
            finals.append(result)
    assert finals[-1].text == "start the morning routine", finals
    # Times stay on the stream's clock across the switch.
    assert finals[-1].start >= before + 0.5, finals[-1]


def test_silence_gives_nothing(coach) -> None:  # type: ignore[no-untyped-def]
    rec, _ = coach
    assert rec.decode(silence(1.0)).text == ""


def test_real_barista_recordings(barista: Path) -> None:
    """A few real human recordings from the benchmark, scored like the benchmark."""
    labels = json.loads((barista / "labels.json").read_text())
    intents = load_intents(BARISTA_SENTENCES)
    rec = PocketSphinxRecognizer({"barista": compile_grammar(intents, name="barista")})
    verifier = Verifier(intents)
    names = sorted(labels)[:6]
    correct = 0
    for name in names:
        result = rec.decode(read_audio(barista / name))
        verdict = verifier.check(result)
        label = labels[name]
        correct += is_correct(
            Item(barista / name, label["intent"], label["slots"]), verdict.intent, verdict.slots
        )
    rec.close()
    # Accuracy is measured in docs/BENCHMARKS.md; here: the path works on real voices.
    assert correct >= 4


def test_confidence_separates_commands_from_other_speech(flite: Callable[..., Pcm]) -> None:
    from voice.hearing.listener import DEFAULT_MIN_CONFIDENCE

    intents = load_intents(BARISTA_SENTENCES)
    rec = PocketSphinxRecognizer({"barista": compile_grammar(intents, name="barista")})
    command = rec.decode(flite("brew an americano with sugar"))
    other = rec.decode(flite("please call my mother tomorrow"))
    rec.close()
    assert command.confidence > DEFAULT_MIN_CONFIDENCE > other.confidence
    assert other.text  # the grammar decoder still "heard" some order: confidence must veto it


def test_listener_end_to_end_on_synthetic_audio(flite: Callable[..., Pcm], tmp_path: Path) -> None:
    from voice.hearing.audio_files import FileAudioSource
    from voice.hearing.engines import EngineSpec
    from voice.hearing.listener import build_listener

    path = tmp_path / "coach.yaml"
    path.write_text(COACH, encoding="utf-8")
    intents = load_intents(path)
    audio = np.concatenate(
        [
            silence(0.5),
            flite("start the morning routine"),
            silence(1.0),
            flite("how much time is left"),
            silence(1.0),
        ]
    )
    heard: list[tuple[str, float, float]] = []
    listener = build_listener(
        FileAudioSource.from_pcm(audio),
        intents,
        lambda t, c, e: heard.append((t, c, e)),
        states=STATES,
        spec=EngineSpec("pocketsphinx"),
        barge_in={"Stop", "Pause"},
    )
    listener.start()
    listener.join(60)
    assert listener.error is None
    # Idle state: the routine start is heard, the hold-only question is not.
    assert [h[0] for h in heard] == ["start the morning routine"], heard
    assert heard[0][1] >= 0.5


class LatticeCounter:
    """A decoder stand-in whose search never reaches the grammar's end, counting the
    n-best (lattice) requests the recognizer makes."""

    def __init__(self) -> None:
        self.nbest_calls = 0
        self.logmath = None

    def start_utt(self) -> None: ...

    def set_cmn(self, cmn: str) -> None: ...

    def get_cmn(self, update: bool = False) -> str:
        return ",".join(["0"] * 13)

    def process_raw(self, audio: bytes, no_search: bool, full_utt: bool) -> None: ...

    def end_utt(self) -> None: ...

    def hyp(self) -> None:
        return None

    def seg(self) -> None:
        return None

    def nbest(self) -> Iterator[SimpleNamespace]:
        self.nbest_calls += 1
        return iter([SimpleNamespace(hypstr="pause the", score=5)])


def counting_recognizer(**settings: Any) -> tuple[PocketSphinxRecognizer, LatticeCounter]:
    from voice.hearing.pocketsphinx_engine import DecoderSettings

    rec = PocketSphinxRecognizer.__new__(PocketSphinxRecognizer)
    rec.decoder_settings = DecoderSettings(phone_loop_confidence=False, **settings)
    rec._decoder = decoder = LatticeCounter()
    rec._loop = None
    rec._utt_audio = []
    rec._in_utt = False
    rec._live_open = False
    rec._probe = decoder  # the cepstral mean probe: the stand-in's means are all zero
    rec._prior = ",".join(["0"] * 13)
    rec._used_mean = []
    rec._frontend = Frontend(FrontendSettings(rnnoise=False))
    rec._utt_first = 0
    return rec, decoder


@pytest.mark.parametrize("live_decode", [True, False])
def test_live_stream_skips_the_lattice_unless_asked_and_files_use_it(live_decode: bool) -> None:
    rec, decoder = counting_recognizer(live_decode=live_decode)
    rec._on_event("start", b"\0\0" * 160, 0.0)
    live = rec._on_event("end", b"", 0.5)
    assert live is not None and live.text == "" and decoder.nbest_calls == 0

    rec, decoder = counting_recognizer(live_nbest=True, live_decode=live_decode)
    rec._on_event("start", b"\0\0" * 160, 0.0)
    rescued = rec._on_event("end", b"", 0.5)
    assert rescued is not None and rescued.text == "pause the" and decoder.nbest_calls == 1
    assert rescued.confidence == 0.5  # a partial path is half-trusted

    rec, decoder = counting_recognizer()
    whole = rec._result(0.0, 1.0, 0.0, partial=True, audio=b"")  # what decode() asks for
    assert whole.text == "pause the" and decoder.nbest_calls == 1


def test_decoder_defaults_build_no_lattice_for_every_utterance() -> None:
    from voice.hearing.pocketsphinx_engine import DecoderSettings

    settings = DecoderSettings()
    assert settings.bestpath is False and settings.live_nbest is False


def test_engine_options_reach_the_decoder_settings() -> None:
    import argparse

    from voice.hearing.cli_options import add_engine_options, engine_spec

    parser = argparse.ArgumentParser()
    add_engine_options(parser)
    default = engine_spec(parser.parse_args([])).decoder
    assert (default.bestpath, default.live_nbest) == (False, False)
    chosen = engine_spec(parser.parse_args(["--bestpath", "--live-nbest"])).decoder
    assert (chosen.bestpath, chosen.live_nbest) == (True, True)
    spec = engine_spec(
        parser.parse_args(
            ["--no-filler", "--beam", "1e-40", "--vad-mode", "3", "--noise-suppression", "0",
             "--ps-option", "fillprob=1e-2", "--ps-option", "bestpath=no",
             "--ps-option", "remove_noise=Yes"]
        )
    )  # fmt: skip
    assert spec.decoder.fsgusefiller is False and spec.decoder.beam == 1e-40
    # PocketSphinx's Config takes the string "no" as true: the option must give a boolean
    assert spec.decoder.extra == {"fillprob": 1e-2, "bestpath": False, "remove_noise": True}
    assert spec.endpoint.vad_mode == 3 and spec.frontend.noise_suppression == 0


def test_words_without_their_apostrophe_are_pronounced_as_with_it() -> None:
    found = load_pronunciations(["dont", "thats", "ill", "stop"])
    assert found["dont"][0] == "D OW N T"  # "don't", not a guess from the spelling
    assert found["thats"] == ["DH AE T S"]
    assert found["ill"] == ["IH L"]  # a word of its own keeps its own ("i'll" is not taken)
    assert found["stop"] == ["S T AA P"]
