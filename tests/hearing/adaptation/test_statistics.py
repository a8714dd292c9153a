"""Gaussian posteriors and the statistics they add up to."""

from __future__ import annotations

import numpy as np

from voice.hearing.adaptation.ptm_model import PtmModel
from voice.hearing.adaptation.statistics import MllrStats, posteriors


def two_gaussian_model() -> PtmModel:
    means = np.zeros((1, 3, 2, 13))
    means[0, :, 1] = 10.0
    variances = np.ones_like(means)
    weights = np.log(np.full((3, 2, 2), 0.5))
    weights[:, :, 1] = np.log([0.999, 0.001])  # senone 1 all but ignores Gaussian 1
    return PtmModel(means, variances, weights, ("A",))


def test_a_frame_on_a_gaussian_belongs_to_it() -> None:
    model = two_gaussian_model()
    x = np.array([[0.0] * 13, [10.0] * 13])
    post = posteriors(model, 0, x, np.array([0, 0]), np.array([0, 0]))
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    assert post[0, 0] > 0.999 and post[1, 1] > 0.999


def test_the_senones_weights_share_an_ambiguous_frame() -> None:
    model = two_gaussian_model()
    halfway = np.full((1, 13), 5.0)
    even = posteriors(model, 0, halfway, np.array([0]), np.array([0]))
    leaning = posteriors(model, 0, halfway, np.array([1]), np.array([0]))
    np.testing.assert_allclose(even, [[0.5, 0.5]])
    np.testing.assert_allclose(leaning, [[0.999, 0.001]])


def test_statistics_add_every_stream_and_merge() -> None:
    model = two_gaussian_model()
    x = np.zeros((4, 39))
    x[2:] = 10.0
    stats = MllrStats.empty(model)
    stats.add(model, x, np.zeros(4, np.int64), np.zeros(4, np.int64))
    np.testing.assert_allclose(stats.occupancy[:, 0], [[2.0, 2.0]] * 3, atol=1e-9)
    np.testing.assert_allclose(stats.first[0, 0, 1], 20.0, atol=1e-6)
    np.testing.assert_allclose(stats.second[2, 0, 1], 200.0, atol=1e-5)
    both = stats.merge(stats)
    assert (both.frames, both.utterances) == (8, 2)
    np.testing.assert_allclose(both.occupancy, 2 * stats.occupancy)
