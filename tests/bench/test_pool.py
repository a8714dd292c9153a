"""The bench's worker pool: results in order, a runaway job is cut off and its worker replaced."""

from __future__ import annotations

import os

from voice.bench.pool import Failed, TimedOut, TimedPool, process_cpu_s


def _job(x: int) -> int:
    if x < 0:
        while True:  # a decoder stuck in C code: burns CPU and never returns
            pass
    if x == 13:
        raise ValueError("unlucky")
    return x * x


def _limit(x: int) -> float:
    return 0.5


def test_results_in_order_with_a_stalled_and_a_failing_job() -> None:
    pool: TimedPool[int] = TimedPool(_job, _limit, workers=2, label="test")
    got = pool.map([1, 2, -1, 3, 13, 4])
    assert got[:2] == [1, 4]
    assert isinstance(got[2], TimedOut)
    assert got[3] == 9
    assert isinstance(got[4], Failed) and "unlucky" in got[4].error
    assert got[5] == 16
    assert pool.timeouts == 1
    assert pool.restarts == 1


def test_process_cpu_reads_this_process() -> None:
    cpu = process_cpu_s(os.getpid())
    assert cpu is not None and cpu >= 0.0
    assert process_cpu_s(2**22 + 12345) is None
