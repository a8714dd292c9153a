"""`stretch-coach adapt` end to end: labelled recordings in, a transform PocketSphinx uses out."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voice.cli import main
from voice.hearing.adaptation.mllr import read
from voice.hearing.audio_files import Pcm

from ..conftest import COACH_SENTENCES, silence

SAID = {
    "pause.wav": ("pause the session", "Pause", {}),
    "time.wav": ("how much time is left", "TimeLeft", {}),
    "start.wav": ("start the morning routine", "StartRoutine", {"routine": "morning"}),
}


@pytest.fixture
def labelled(tmp_path: Path, flite: Callable[..., Pcm]) -> tuple[Path, Path, Path, Path]:
    audio = tmp_path / "audio"
    audio.mkdir()
    labels = {}
    for name, (text, intent, slots) in SAID.items():
        pcm = np.concatenate([silence(0.3), flite(text), silence(0.3)])
        soundfile.write(audio / name, pcm, 16000)
        labels[name] = {"intent": intent, "slots": slots}
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    sentences = tmp_path / "coach.yaml"
    sentences.write_text(COACH_SENTENCES)
    noise = tmp_path / "noise.wav"
    hiss = np.random.default_rng(0).normal(0, 2000, 16000 * 5).astype(np.int16)
    soundfile.write(noise, hiss, 16000)
    return audio, tmp_path / "labels.json", sentences, noise


def test_adapt_writes_a_transform_that_eval_and_pocketsphinx_use(
    labelled: tuple[Path, Path, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    audio, labels, sentences, noise = labelled
    out = tmp_path / "adapted.mllr"
    common = ["--sentences", str(sentences), "--labels", str(labels), "--audio", str(audio)]
    code = main(
        ["adapt", *common, "--noise", str(noise), "--snr", "12", "--iterations", "1"]
        + ["--out", str(out)]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip() == str(out)
    assert "iteration 1: 6 takes aligned" in caplog.text  # 3 recordings, clean and at 12 dB
    transform = read(out)
    assert any(np.abs(s.b).max() > 0.0 for s in transform.streams)
    assert main(["eval", *common, "--mllr", str(out), "--json"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["total"] == 3


def test_recordings_the_engine_never_gets_right_leave_nothing_to_adapt_on(
    labelled: tuple[Path, Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audio, labels, sentences, _ = labelled
    wrong = {name: {"intent": "Stop", "slots": {}} for name in SAID}
    labels.write_text(json.dumps(wrong))
    code = main(
        ["adapt", "--sentences", str(sentences), "--labels", str(labels), "--audio", str(audio)]
        + ["--iterations", "1", "--out", str(tmp_path / "x.mllr")]
    )
    err = capsys.readouterr().err
    assert code != 0 and "nothing to adapt on" in err and "Traceback" not in err
    assert not (tmp_path / "x.mllr").exists()


def test_a_broken_transform_file_is_one_clear_line(
    labelled: tuple[Path, Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audio, labels, sentences, _ = labelled
    bad = tmp_path / "bad.mllr"
    bad.write_text("1 3 13 oops\n")
    with pytest.raises(SystemExit) as exit_:
        main(["eval", "--sentences", str(sentences), "--labels", str(labels), "--audio",
              str(audio), "--mllr", str(bad)])  # fmt: skip
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "not a one-class MLLR transform" in err
