"""One global MLLR transform: per stream, mean' = A mean + b and variance' = variance * h.

This is the transform PocketSphinx 5 reads with `-mllr FILE` (one class: it applies only the
first). The file is text: the number of classes (1) and of streams, then for each stream
its length and A (row by row), b and h.

Estimation is the standard maximum-likelihood one for diagonal covariances: every row of
[b A] solves its own 14 x 14 system built from the Gaussians' statistics, and h is the
mean squared normalised residual per dimension, left at 1 with `variances=False`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voice.hearing.adaptation.ptm_model import STREAM_DIM, PtmModel
from voice.hearing.adaptation.statistics import MllrStats

Array = npt.NDArray[np.float64]


class TransformFormatError(ValueError):
    pass


@dataclass(frozen=True, eq=False)
class StreamTransform:
    a: Array  # (dim, dim)
    b: Array  # (dim,)
    h: Array  # (dim,)

    @classmethod
    def identity(cls, dim: int = STREAM_DIM) -> StreamTransform:
        return cls(np.eye(dim), np.zeros(dim), np.ones(dim))

    def then(self, after: StreamTransform) -> StreamTransform:
        """This transform followed by `after`, as one."""
        return StreamTransform(after.a @ self.a, after.a @ self.b + after.b, self.h * after.h)


@dataclass(frozen=True)
class MllrTransform:
    streams: tuple[StreamTransform, ...]

    @classmethod
    def identity(cls, n_streams: int = 3) -> MllrTransform:
        return cls(tuple(StreamTransform.identity() for _ in range(n_streams)))

    def then(self, after: MllrTransform) -> MllrTransform:
        pairs = zip(self.streams, after.streams, strict=True)
        return MllrTransform(tuple(s.then(a) for s, a in pairs))

    def apply(self, model: PtmModel) -> PtmModel:
        means = model.means.copy()
        variances = model.variances.copy()
        for k, t in enumerate(self.streams):
            means[:, k] = model.means[:, k] @ t.a.T + t.b
            variances[:, k] = model.variances[:, k] * t.h
        return PtmModel(means, variances, model.log_weights, model.phones)

    def to_text(self) -> str:
        lines = ["1", str(len(self.streams))]
        for t in self.streams:
            lines.append(str(len(t.b)))
            lines += [_row(r) for r in t.a]
            lines += [_row(t.b), _row(t.h)]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_text(), encoding="ascii")
        tmp.replace(path)


def _row(values: Array) -> str:
    return " ".join(f"{v:.7g}" for v in values)


def parse(text: str, origin: str = "MLLR file") -> MllrTransform:
    try:
        values = [float(v) for v in text.split()]
        n_class, n_streams = int(values[0]), int(values[1])
        pos = 2
        streams: list[StreamTransform] = []
        for _ in range(n_streams):
            dim = int(values[pos])
            pos += 1
            block = np.array(values[pos : pos + dim * dim + 2 * dim])
            if n_class != 1 or len(block) != dim * dim + 2 * dim:
                raise ValueError
            pos += len(block)
            a = block[: dim * dim].reshape(dim, dim)
            streams.append(StreamTransform(a, block[dim * dim : -dim], block[-dim:]))
    except (ValueError, IndexError):
        raise TransformFormatError(f"{origin}: not a one-class MLLR transform") from None
    if pos != len(values):
        raise TransformFormatError(f"{origin}: unexpected values after the transform")
    return MllrTransform(tuple(streams))


def read(path: Path) -> MllrTransform:
    return parse(path.read_text(encoding="ascii"), str(path))


def estimate(stats: MllrStats, model: PtmModel, *, variances: bool = True) -> MllrTransform:
    """The transform that makes `stats` most likely under `model`."""
    return MllrTransform(
        tuple(_estimate_stream(stats, model, k, variances) for k in range(model.n_streams))
    )


def _estimate_stream(stats: MllrStats, model: PtmModel, k: int, variances: bool) -> StreamTransform:
    mean = model.means[:, k].reshape(-1, STREAM_DIM)
    var = model.variances[:, k].reshape(-1, STREAM_DIM)
    occ = stats.occupancy[k].reshape(-1)
    first = stats.first[k].reshape(-1, STREAM_DIM)
    second = stats.second[k].reshape(-1, STREAM_DIM)
    extended = np.hstack([np.ones((len(mean), 1)), mean])  # [1, mean]
    a = np.eye(STREAM_DIM)
    b = np.zeros(STREAM_DIM)
    for i in range(STREAM_DIM):
        weight = occ / var[:, i]
        g = (extended * weight[:, None]).T @ extended
        rhs = ((first[:, i] / var[:, i])[:, None] * extended).sum(axis=0)
        row = np.linalg.solve(g, rhs)
        b[i], a[i] = row[0], row[1:]
    h = np.ones(STREAM_DIM)
    if variances:
        moved = mean @ a.T + b
        residual = second - 2 * moved * first + moved * moved * occ[:, None]
        h = (residual / var).sum(axis=0) / occ.sum()
    return StreamTransform(a, b, h)
