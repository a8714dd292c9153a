"""The MLLR transform: its estimate, its composition and the file PocketSphinx reads."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from voice.hearing.adaptation.mllr import (
    MllrTransform,
    StreamTransform,
    TransformFormatError,
    estimate,
    parse,
    read,
)
from voice.hearing.adaptation.ptm_model import PtmModel
from voice.hearing.adaptation.statistics import MllrStats


def small_model(seed: int = 0) -> PtmModel:
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 3.0, size=(4, 3, 16, 13))
    variances = rng.uniform(0.2, 2.0, size=means.shape)
    weights = np.log(np.full((3, 16, 10), 1 / 16))
    return PtmModel(means, variances, weights, ("A", "B", "C", "D"))


def random_transform(seed: int = 1) -> MllrTransform:
    rng = np.random.default_rng(seed)
    return MllrTransform(
        tuple(
            StreamTransform(
                np.eye(13) + rng.normal(0.0, 0.1, size=(13, 13)),
                rng.normal(0.0, 1.0, size=13),
                rng.uniform(0.7, 1.5, size=13),
            )
            for _ in range(3)
        )
    )


def stats_drawn_from(model: PtmModel, n: float) -> MllrStats:
    """What n frames per Gaussian add up to when they come from `model` exactly."""
    stats = MllrStats.empty(model)
    for k in range(3):
        mean = model.means[:, k]
        stats.occupancy[k] = n
        stats.first[k] = n * mean
        stats.second[k] = n * (mean**2 + model.variances[:, k])
    return stats


def test_the_estimate_finds_the_transform_the_statistics_came_from() -> None:
    model = small_model()
    truth = random_transform()
    got = estimate(stats_drawn_from(truth.apply(model), 50.0), model)
    for g, t in zip(got.streams, truth.streams, strict=True):
        np.testing.assert_allclose(g.a, t.a, atol=1e-8)
        np.testing.assert_allclose(g.b, t.b, atol=1e-8)
        np.testing.assert_allclose(g.h, t.h, atol=1e-8)


def test_statistics_that_fit_the_model_give_the_identity() -> None:
    model = small_model()
    got = estimate(stats_drawn_from(model, 10.0), model, variances=False)
    for g in got.streams:
        np.testing.assert_allclose(g.a, np.eye(13), atol=1e-8)
        np.testing.assert_allclose(g.b, 0.0, atol=1e-8)
        assert (g.h == 1.0).all()


def test_two_transforms_compose_into_one() -> None:
    model = small_model()
    first, second = random_transform(1), random_transform(2)
    at_once = first.then(second).apply(model)
    one_by_one = second.apply(first.apply(model))
    np.testing.assert_allclose(at_once.means, one_by_one.means, atol=1e-9)
    np.testing.assert_allclose(at_once.variances, one_by_one.variances, atol=1e-9)


def test_the_file_round_trips(tmp_path: Path) -> None:
    t = random_transform()
    path = tmp_path / "t.mllr"
    t.write(path)
    back = read(path)
    lines = path.read_text().splitlines()
    assert lines[:3] == ["1", "3", "13"]  # one class, three streams, each of 13
    for a, b in zip(t.streams, back.streams, strict=True):
        np.testing.assert_allclose(a.a, b.a, rtol=1e-6)
        np.testing.assert_allclose(a.h, b.h, rtol=1e-6)


def test_pocketsphinx_reads_the_file_and_its_transform_changes_what_it_hears(
    tmp_path: Path, flite
) -> None:  # type: ignore[no-untyped-def]
    import pocketsphinx

    from voice.hearing.pocketsphinx_engine import model_dir

    audio = flite("how much time is left").tobytes()
    shifted = MllrTransform(
        tuple(StreamTransform(np.eye(13), np.full(13, 3.0), np.ones(13)) for _ in range(3))
    )
    path = tmp_path / "shift.mllr"
    shifted.write(path)

    def log_score(**extra: str) -> float:
        """The acoustic log score of the words' path through the audio."""
        d = pocketsphinx.Decoder(hmm=str(model_dir() / "en-us"), lm=None, loglevel="FATAL", **extra)
        d.add_jsgf_string("g", "#JSGF V1.0;\ngrammar g;\npublic <s> = how much time is left;\n")
        d.activate_search("g")
        d.start_utt()
        d.process_raw(audio, full_utt=True)
        d.end_utt()
        return sum(math.log(s.ascore) for s in d.seg() if s.ascore > 0)

    # Every mean moved 3 units away from the speech: the same words fit it far worse.
    assert log_score(mllr=str(path)) < log_score() - 10


@pytest.mark.parametrize(
    "text, why",
    [
        ("", "not a one-class MLLR transform"),
        ("1 3 13 1 2 3", "not a one-class MLLR transform"),
        ("2 1 1 1 0 1", "not a one-class MLLR transform"),
        ("1 1 1 1 0 1 7", "unexpected values after the transform"),
        ("one class", "not a one-class MLLR transform"),
    ],
)
def test_a_broken_file_is_one_clear_error(text: str, why: str) -> None:
    with pytest.raises(TransformFormatError, match=why):
        parse(text)
