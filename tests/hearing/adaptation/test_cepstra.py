"""PocketSphinx's own front end through ctypes: the features the decoder really sees."""

from __future__ import annotations

import numpy as np
import pocketsphinx

from voice.hearing.adaptation.cepstra import FrontEnd, features
from voice.hearing.pocketsphinx_engine import model_dir

GRAMMAR = "#JSGF V1.0;\ngrammar g;\npublic <s> = how much time is left | pause | stop;\n"


def decoder() -> pocketsphinx.Decoder:
    d = pocketsphinx.Decoder(hmm=str(model_dir() / "en-us"), lm=None, loglevel="FATAL")
    d.add_jsgf_string("g", GRAMMAR)
    d.activate_search("g")
    return d


def heard(
    d: pocketsphinx.Decoder, feed: str, data: bytes
) -> tuple[str, list[tuple[str, int, int]]]:
    d.start_utt()
    getattr(d, feed)(data, full_utt=True)
    d.end_utt()
    return d.hyp().hypstr, [(s.word, s.start_frame, s.end_frame) for s in d.seg()]


def test_its_cepstra_decode_exactly_as_the_audio_does(flite) -> None:  # type: ignore[no-untyped-def]
    audio = flite("how much time is left")
    front = FrontEnd(decoder().config)
    cep = front.cepstra(audio)
    by_audio, by_cepstra = decoder(), decoder()
    from_audio = heard(by_audio, "process_raw", audio.tobytes())
    from_cepstra = heard(by_cepstra, "process_cep", cep.astype(np.float32).tobytes())
    assert cep.shape[1] == 13 and by_cepstra.n_frames() == by_audio.n_frames()
    assert from_audio[0] == "how much time is left"
    assert from_cepstra == from_audio  # same words, same frame boundaries
    front.close()


def test_like_the_decoders_its_noise_estimate_carries_over_to_the_next_utterance(
    flite,
) -> None:  # type: ignore[no-untyped-def]
    audio = flite("pause")
    first, second = FrontEnd(decoder().config), FrontEnd(decoder().config)
    fresh = first.cepstra(audio)
    np.testing.assert_array_equal(fresh, second.cepstra(audio))
    again = first.cepstra(audio)  # after an utterance, the noise removal has learnt a floor
    assert again.shape == fresh.shape and not np.array_equal(again, fresh)


def test_features_are_the_mean_normalised_cepstra_with_their_deltas() -> None:
    frames = np.arange(20, dtype=np.float32)[:, None] * np.ones((1, 13), np.float32)
    f = features(frames)  # a ramp rising by 1 per frame in every coefficient
    assert f.shape == (20, 39)
    np.testing.assert_allclose(f[:, :13].mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(f[5:-5, 13:26], 4.0)  # c[t+2] - c[t-2]
    np.testing.assert_allclose(f[5:-5, 26:], 0.0)  # a straight line does not accelerate
    assert f[0, 13] == 2.0  # the first frame repeats at the edge: c[2] - c[0]
