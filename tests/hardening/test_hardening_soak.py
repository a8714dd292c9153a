"""Soak (issue 9, part 5), short versions of bench/soak.py: the full runs (8 simulated hours,
10 wall-clock minutes) are `python bench/soak.py sim` / `wall`; figures in BENCHMARKS.md."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.hardening.helpers import ROOT


def soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", ROOT / "bench" / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_simulated_hour_keeps_memory_flat() -> None:
    result = soak_module().soak_sim(1.0)
    assert result["sessions_ended"] >= 2
    assert result["rss_growth_mb"] < 5.0, result


@pytest.mark.slow
def test_eight_simulated_hours() -> None:
    result = soak_module().soak_sim(8.0)
    assert result["ok"], result


@pytest.mark.slow
def test_thirty_wall_seconds_with_status_polled_at_50_per_second() -> None:
    result = soak_module().soak_wall(30.0, rate=50.0, warmup=10.0)
    polled = result["status_polling"]
    assert polled["non_200"] == 0 and polled["errors"] == 0, result
    assert polled["requests"] == 1500
    assert result["rss_growth_mb"] < 5.0, result
    assert result["threads_end"] <= result["threads_start"], result
    assert result["fds_end"] <= result["fds_start"], result
