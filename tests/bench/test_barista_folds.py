"""The barista section cross-validates the adaptation: adapt without a fold, measure on it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from voice.bench import barista
from voice.bench.common import FULL, Bench
from voice.bench.report import barista_section


def test_folds_add_up_into_one_row_per_condition() -> None:
    parts = [
        [{"condition": "clean", "correct": 140, "total": 148, "cpu_per_audio_s": 0.02}],
        [{"condition": "clean", "correct": 146, "total": 148, "cpu_per_audio_s": 0.04}],
    ]
    (row,) = barista._add_folds(parts)
    assert (row["correct"], row["total"]) == (286, 296)
    assert row["rate"] == pytest.approx(286 / 296)
    assert row["cpu_per_audio_s"] == pytest.approx(0.03)


def test_a_full_run_adapts_per_fold_and_measures_each_fold_with_its_own_transform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(barista, "BARISTA", tmp_path)
    (tmp_path / "labels.json").write_text("{}")
    calls: list[list[str]] = []

    def fake_run(cmd: list[str]) -> Any:
        calls.append(cmd)
        if cmd[1] == "adapt":
            return subprocess.CompletedProcess(cmd, 0, "", "")
        fold = int(cmd[cmd.index("--fold") + 1].split("/")[0])
        conditions = ["clean"] if "--noise" not in cmd else ["24 dB", "12 dB", "6 dB"]
        rows = [
            {"condition": c, "correct": 100 + fold, "total": 148, "rate": 0.0,
             "cpu_per_audio_s": 0.1}
            for c in conditions
        ]  # fmt: skip
        return subprocess.CompletedProcess(cmd, 0, "\n".join(map(json.dumps, rows)), "")

    monkeypatch.setattr(barista, "_run", fake_run)
    result = barista.run(Bench(FULL, tmp_path / "cache", jobs=2))
    adapts = [c for c in calls if c[1] == "adapt"]
    assert [c[c.index("--holdout") + 1] for c in adapts] == ["0/2", "1/2"]
    evals = [c for c in calls if c[1] == "eval"]
    for c in evals:
        k = c[c.index("--fold") + 1].split("/")[0]
        assert c[c.index("--mllr") + 1].endswith(f"barista-adapted-{k}-of-2.mllr")
    assert [r["condition"] for r in result["rows"]] == ["clean", "24 dB", "12 dB", "6 dB"]
    assert result["rows"][0]["correct"] == 201 and result["rows"][0]["total"] == 296
    assert "Cross-validated (2 folds)" in barista_section(result, "")


def test_a_failed_adaptation_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(barista, "BARISTA", tmp_path)
    (tmp_path / "labels.json").write_text("{}")
    monkeypatch.setattr(barista, "_run", lambda cmd: "error: nothing to adapt on")
    result = barista.run(Bench(FULL, tmp_path / "cache"))
    assert "nothing to adapt on" in result["error"]
    assert "Not run" in barista_section(result, "")
