"""The hearing commands end to end through the stretch-coach CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voice.cli import main
from voice.hearing.audio_files import Pcm

from .conftest import BARISTA_SENTENCES, KITCHEN


def test_transcribe_json_lines_and_bad_file(
    tmp_path: Path, flite: Callable[..., Pcm], capsys: pytest.CaptureFixture[str]
) -> None:
    wav = tmp_path / "order.wav"
    soundfile.write(
        wav, np.concatenate([np.zeros(4000, np.int16), flite("brew an americano")]), 16000
    )
    bad = tmp_path / "bad.wav"
    bad.write_text("this is text")
    code = main(["transcribe", "--sentences", str(BARISTA_SENTENCES), str(wav), str(bad)])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # one file failed
    assert lines == [
        {
            "file": str(wav),
            "text": "brew an americano",
            "intent": "orderDrink",
            "slots": {"coffeeDrink": "americano"},
            "confidence": lines[0]["confidence"],
        }
    ]
    assert err.count("\n") == 1 and "bad.wav" in err and "Traceback" not in err


def test_transcribe_stdin_raw_pcm(
    flite: Callable[..., Pcm],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import sys

    raw = np.concatenate([np.zeros(4000, np.int16), flite("can I have a large mocha")])
    fake = io.TextIOWrapper(io.BytesIO(raw.astype("<i2").tobytes()))
    monkeypatch.setattr(sys, "stdin", fake)
    assert main(["transcribe", "--sentences", str(BARISTA_SENTENCES), "-"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert (line["file"], line["intent"], line["slots"]) == (
        "-",
        "orderDrink",
        {"size": "large", "coffeeDrink": "mocha"},
    )


def test_eval_table_clean_and_noisy(barista: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not KITCHEN.exists():
        pytest.skip("kitchen noise not found")
    code = main(
        [
            "eval",
            "--sentences",
            str(BARISTA_SENTENCES),
            "--labels",
            str(barista / "labels.json"),
            "--audio",
            str(barista),
            "--limit",
            "3",
            "--noise",
            str(KITCHEN),
            "--snr",
            "24",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    rows = [line.split()[0] for line in out.splitlines()[2:]]
    assert rows == ["clean", "24"]


def test_eval_bad_inputs_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "eval",
            "--sentences",
            str(BARISTA_SENTENCES),
            "--labels",
            str(tmp_path / "none.json"),
            "--audio",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert code != 0 and "none.json" in err and "Traceback" not in err


def test_models_download_offline_says_where_to_put_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.error
    import urllib.request

    def offline(*_a: object, **_k: object) -> None:
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    code = main(["models", "download", "vosk-model-small-en-us-0.15"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "\n" not in err
    assert str(tmp_path / "stretch-coach" / "models" / "vosk-model-small-en-us-0.15") in err


def test_models_list_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    model = tmp_path / "stretch-coach" / "models" / "tiny"
    (model / "am").mkdir(parents=True)
    (model / "am" / "final.mdl").write_bytes(b"")
    assert main(["models", "path"]) == 0
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "stretch-coach" / "models") in out and "tiny" in out


def test_engine_auto_prefers_vosk_only_with_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice.hearing.engines import EngineSpec, resolve
    from voice.hearing.models import ModelError

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("STRETCH_COACH_VOSK_MODEL", raising=False)
    assert resolve(EngineSpec("auto")) == ("pocketsphinx", None)
    with pytest.raises(ValueError, match="needs a model"):
        resolve(EngineSpec("vosk"))
    with pytest.raises(ModelError, match="not a Vosk model"):
        resolve(EngineSpec("auto", vosk_model=str(tmp_path)))


def test_a_decoder_option_pocketsphinx_refuses_is_one_line(
    tmp_path: Path, flite: Callable[..., Pcm], capsys: pytest.CaptureFixture[str]
) -> None:
    soundfile.write(tmp_path / "a.wav", flite("brew an americano"), 16000)
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"a.wav": {"intent": "orderDrink", "slots": {}}}))
    code = main(
        ["eval", "--sentences", str(BARISTA_SENTENCES), "--labels", str(labels), "--audio",
         str(tmp_path), "--ps-option", "nosuchoption=1"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert "PocketSphinx would not start (options: nosuchoption=1)" in err
