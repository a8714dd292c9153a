"""The transform the built-in engine ships with, and how to turn it off."""

from __future__ import annotations

import argparse

import numpy as np

from voice.hearing.adaptation.mllr import read
from voice.hearing.cli_options import add_engine_options, engine_spec
from voice.hearing.pocketsphinx_engine import ADAPTED_MODEL, DecoderSettings


def test_the_engine_decodes_with_the_shipped_transform_by_default() -> None:
    assert DecoderSettings().mllr == str(ADAPTED_MODEL)
    transform = read(ADAPTED_MODEL)
    assert len(transform.streams) == 3
    for s in transform.streams:  # an adaptation, not a new model: close to the identity
        assert np.abs(s.a - np.eye(13)).max() < 0.5
        assert s.h.min() > 0.5 and s.h.max() < 2.0


def _spec(*argv: str):  # type: ignore[no-untyped-def]
    parser = argparse.ArgumentParser()
    add_engine_options(parser)
    return engine_spec(parser.parse_args(list(argv)))


def test_mllr_none_is_the_model_as_shipped_and_a_file_replaces_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert _spec().decoder.mllr == str(ADAPTED_MODEL)
    assert _spec("--mllr", "none").decoder.mllr == ""
    other = tmp_path / "mine.mllr"
    other.write_text(ADAPTED_MODEL.read_text())
    assert _spec("--mllr", str(other)).decoder.mllr == str(other)
