"""Reading PocketSphinx's shipped US-English PTM model as arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voice.hearing.adaptation.ptm_model import ModelFormatError, PtmModel, load, read_gaussians
from voice.hearing.pocketsphinx_engine import model_dir


@pytest.fixture(scope="module")
def model() -> PtmModel:
    return load(model_dir() / "en-us")


def test_the_shipped_model_has_one_codebook_per_base_phone(model: PtmModel) -> None:
    assert model.means.shape == (42, 3, 128, 13)
    assert model.variances.shape == model.means.shape
    assert model.phones[0] == "+NSN+" and "SIL" in model.phones
    assert list(model.phones) == sorted(model.phones)
    assert model.codebook("AA") == 2


def test_every_senone_mixes_weights_that_add_up_to_about_one(model: PtmModel) -> None:
    # 8-bit weights lose the smallest ones: the sums sit a little under 1, never over.
    totals = np.exp(model.log_weights).sum(axis=1)
    assert model.log_weights.shape == (3, 128, 5126)
    assert totals.min() > 0.85 and totals.max() <= 1.0 + 1e-9


def test_variances_are_floored_as_pocketsphinx_floors_them(model: PtmModel) -> None:
    assert model.variances.min() >= 1e-4


def test_a_file_that_is_no_parameter_file_is_one_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "means"
    bogus.write_text("not a model\n")
    with pytest.raises(ModelFormatError, match="not a SphinxTrain parameter file"):
        read_gaussians(bogus)
    with pytest.raises(ModelFormatError, match="not a little-endian binary mdef"):
        load_dir = tmp_path / "m"
        load_dir.mkdir()
        for name in ("means", "variances"):
            (load_dir / name).write_bytes((model_dir() / "en-us" / name).read_bytes())
        (load_dir / "sendump").write_bytes((model_dir() / "en-us" / "sendump").read_bytes())
        (load_dir / "mdef").write_text("0.3\n")
        load(load_dir)
