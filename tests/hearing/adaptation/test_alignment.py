"""Aligning known words to audio, frame by frame, to senones and codebooks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from voice.hearing.adaptation.alignment import Aligner
from voice.hearing.adaptation.ptm_model import PtmModel, load
from voice.hearing.audio_files import Pcm
from voice.hearing.grammar import compile_grammar, load_intents
from voice.hearing.pocketsphinx_engine import PocketSphinxRecognizer, model_dir

from ..conftest import COACH_SENTENCES, silence


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("s") / "coach.yaml"
    path.write_text(COACH_SENTENCES, encoding="utf-8")
    rec = PocketSphinxRecognizer({"all": compile_grammar(load_intents(path), name="all")})
    aligner = Aligner(model_dir() / "en-us", rec.dictionary)
    yield aligner, load(model_dir() / "en-us")
    aligner.close()
    rec.close()


def test_every_frame_gets_a_senone_of_the_words_phones(
    setup: tuple[Aligner, PtmModel], flite: Callable[..., Pcm]
) -> None:
    aligner, model = setup
    audio = np.concatenate([silence(0.3), flite("pause the session"), silence(0.3)])
    frames = aligner.align(audio, "pause the session", model)
    assert frames is not None
    assert len(frames.senones) == len(aligner.front.cepstra(audio))
    used = {model.phones[c] for c in set(frames.codebooks.tolist())}
    assert {"P", "AO", "Z", "DH", "S", "EH", "SH", "AH", "N"} <= used
    assert model.phones[frames.codebooks[0]] == "SIL"  # the leading silence
    assert (frames.senones < model.log_weights.shape[2]).all()


def test_words_that_cannot_fit_the_audio_give_none(setup: tuple[Aligner, PtmModel]) -> None:
    aligner, model = setup
    too_short = silence(0.05)  # five frames cannot hold three words' phones
    assert aligner.align(too_short, "how much time is left", model) is None
