"""PocketSphinx's phonetically tied mixture (PTM) model, read as arrays.

A PTM model has one codebook of Gaussians per base phone and feature stream; every senone
of that phone mixes the same Gaussians with weights of its own. Three files hold what the
adaptation needs: `means` and `variances` (SphinxTrain's binary parameter format),
`sendump` (mixture weights, 8-bit negated logs) and `mdef` (binary; only the base phone
list is read: codebook k belongs to the k-th base phone).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
STREAM_DIM = 13
# PocketSphinx floors variances at -varfloor (default 1e-4) before it uses them.
VAR_FLOOR = 1e-4
# sendump's bytes are -log(w) in base 1.0001, shifted right by SENSCR_SHIFT (10) bits.
_WEIGHT_UNIT = 1024 * np.log(1.0001)
_BYTE_ORDER_MAGIC = 0x11223344


class ModelFormatError(ValueError):
    pass


@dataclass(frozen=True, eq=False)
class PtmModel:
    means: Array  # (codebook, stream, density, 13)
    variances: Array  # same shape, floored
    log_weights: Array  # (stream, density, senone): natural log of mixture weights
    phones: tuple[str, ...]  # base phones; index = codebook

    @property
    def n_streams(self) -> int:
        return int(self.means.shape[1])

    def codebook(self, phone: str) -> int:
        return self.phones.index(phone)


def load(model_dir: Path) -> PtmModel:
    means = read_gaussians(model_dir / "means")
    variances = np.maximum(read_gaussians(model_dir / "variances"), VAR_FLOOR)
    log_weights = read_sendump(model_dir / "sendump")
    phones = read_base_phones(model_dir / "mdef")
    if means.shape != variances.shape or means.shape[0] != len(phones):
        raise ModelFormatError(f"{model_dir}: means, variances and mdef do not agree")
    if log_weights.shape[:2] != means.shape[1:3]:
        raise ModelFormatError(f"{model_dir}: sendump does not match the codebooks")
    return PtmModel(means, variances, log_weights, phones)


def read_gaussians(path: Path) -> Array:
    """A SphinxTrain binary means or variances file: (codebook, stream, density, dim)."""
    data = path.read_bytes()
    end = data.find(b"endhdr\n")
    if not data.startswith(b"s3\n") or end < 0:
        raise ModelFormatError(f"{path}: not a SphinxTrain parameter file")
    ints = np.frombuffer(data, dtype="<i4", count=4, offset=end + 7)
    if int(ints[0]) != _BYTE_ORDER_MAGIC:
        raise ModelFormatError(f"{path}: only little-endian parameter files are read")
    n_cb, n_streams, n_density = (int(v) for v in ints[1:])
    pos = end + 7 + 16
    lengths = np.frombuffer(data, dtype="<i4", count=n_streams, offset=pos)
    if any(int(n) != STREAM_DIM for n in lengths):
        raise ModelFormatError(f"{path}: streams of {lengths.tolist()}, expected 13 each")
    pos += 4 * n_streams + 4  # the lengths, then the count of floats
    count = n_cb * n_streams * n_density * STREAM_DIM
    values = np.frombuffer(data, dtype="<f4", count=count, offset=pos)
    return values.reshape(n_cb, n_streams, n_density, STREAM_DIM).astype(np.float64)


def read_sendump(path: Path) -> Array:
    """Mixture weights as natural logs: (stream, density, senone)."""
    data = path.read_bytes()
    header, pos = _string_header(data)
    if any(h.startswith("cluster_count") and h.split()[-1] != "0" for h in header):
        raise ModelFormatError(f"{path}: clustered mixture weights are not read")
    n_density, n_senones = struct.unpack_from("<ii", data, pos)
    pos += 8
    raw = np.frombuffer(data, dtype=np.uint8, offset=pos)
    if raw.size % (n_density * n_senones):
        raise ModelFormatError(f"{path}: {raw.size} weight bytes do not fill the table")
    n_streams = raw.size // (n_density * n_senones)
    table = raw.reshape(n_streams, n_density, n_senones)
    out: Array = -table.astype(np.float64) * _WEIGHT_UNIT
    return out


def _string_header(data: bytes) -> tuple[list[str], int]:
    """Length-prefixed strings, ended by a zero length; and where the data starts."""
    strings: list[str] = []
    pos = 0
    while True:
        (size,) = struct.unpack_from("<i", data, pos)
        pos += 4
        if size == 0:
            return strings, pos
        strings.append(data[pos : pos + size].rstrip(b"\0").decode("ascii", "replace"))
        pos += size


def read_base_phones(path: Path) -> tuple[str, ...]:
    """The base (context-independent) phones of a binary mdef, in codebook order."""
    data = path.read_bytes()
    if data[:4] != b"BMDF":
        raise ModelFormatError(f"{path}: not a little-endian binary mdef")
    (desc,) = struct.unpack_from("<i", data, 8)
    pos = 12 + desc
    (n_phones,) = struct.unpack_from("<i", data, pos)
    pos += 40  # ten int32 counts
    phones: list[str] = []
    for _ in range(n_phones):
        end = data.index(b"\0", pos)
        phones.append(data[pos:end].decode("ascii"))
        pos = end + 1
    return tuple(phones)
