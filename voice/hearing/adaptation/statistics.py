"""Sufficient statistics for MLLR: per Gaussian, its occupancy and the sums of x and x^2.

A frame aligned to senone s of base phone p is explained, in each feature stream, by p's
codebook mixed with s's weights: each Gaussian's share of the frame is its posterior within
that mixture. PocketSphinx scores only the top few Gaussians of a codebook; the full
posterior differs from that only in the Gaussians that share almost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voice.hearing.adaptation.ptm_model import STREAM_DIM, PtmModel

Array = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass
class MllrStats:
    occupancy: Array  # (stream, codebook, density)
    first: Array  # (stream, codebook, density, dim): sum of posterior * x
    second: Array  # same: sum of posterior * x^2
    frames: int = 0
    utterances: int = 0

    @classmethod
    def empty(cls, model: PtmModel) -> MllrStats:
        n_cb, n_streams, n_density, _ = model.means.shape
        shape = (n_streams, n_cb, n_density)
        return cls(np.zeros(shape), np.zeros((*shape, STREAM_DIM)), np.zeros((*shape, STREAM_DIM)))

    def add(self, model: PtmModel, features: Array, senones: Ints, codebooks: Ints) -> None:
        """Count one aligned utterance: features (frames, 39), each frame's senone and codebook."""
        for stream in range(model.n_streams):
            x = features[:, stream * STREAM_DIM : (stream + 1) * STREAM_DIM]
            post = posteriors(model, stream, x, senones, codebooks)
            np.add.at(self.occupancy[stream], codebooks, post)
            np.add.at(self.first[stream], codebooks, post[:, :, None] * x[:, None, :])
            np.add.at(self.second[stream], codebooks, post[:, :, None] * (x * x)[:, None, :])
        self.frames += len(features)
        self.utterances += 1

    def merge(self, other: MllrStats) -> MllrStats:
        return MllrStats(
            self.occupancy + other.occupancy,
            self.first + other.first,
            self.second + other.second,
            self.frames + other.frames,
            self.utterances + other.utterances,
        )


def posteriors(model: PtmModel, stream: int, x: Array, senones: Ints, codebooks: Ints) -> Array:
    """Each frame's posterior over its codebook's Gaussians: (frames, density)."""
    mean = model.means[codebooks, stream]  # (frames, density, dim)
    var = model.variances[codebooks, stream]
    log_norm = -0.5 * np.log(2 * np.pi * var).sum(axis=-1)
    log_like = log_norm - 0.5 * (((x[:, None, :] - mean) ** 2) / var).sum(axis=-1)
    log_like += model.log_weights[stream][:, senones].T
    log_like -= log_like.max(axis=1, keepdims=True)
    post = np.exp(log_like)
    out: Array = post / post.sum(axis=1, keepdims=True)
    return out
