"""Worker processes with a wall-clock limit per job.

The decoder can stall on a single clip for minutes (PocketSphinx's n-best search on a large
lattice never returns in useful time), and a stalled C call cannot be interrupted from Python.
So each job runs in a worker process; a job that overruns its limit gets its worker killed
and replaced, and comes back as a `TimedOut` instead of a result. The limit is CPU seconds of
the worker (read from /proc, so a busy shared machine does not make a slow decode look
stalled), with a wall-clock backstop of `WALL_FACTOR` times that. The benchmark counts it
(as a miss: a listener stuck that long has missed the command) and reports how many there
were, so one bad clip costs a bounded amount of time and never the whole run.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

_LOG = logging.getLogger("stretch-coach.bench")

J = TypeVar("J")

INIT_TIMEOUT_S = 180.0
WALL_FACTOR = 6.0
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a live process (Linux /proc), None when unreadable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


@dataclass(frozen=True)
class TimedOut:
    """A job that did not finish within its limit (its worker was killed)."""

    limit_s: float


@dataclass(frozen=True)
class Failed:
    """A job that raised; `error` is its repr."""

    error: str


def _worker(
    conn: Connection,
    init: Callable[..., None] | None,
    init_args: tuple[Any, ...],
    fn: Callable[[Any], Any],
) -> None:
    if init is not None:
        init(*init_args)
    conn.send(("ready", None))
    while True:
        msg = conn.recv()
        if msg is None:
            return
        index, job = msg
        try:
            conn.send((index, fn(job)))
        except Exception as err:  # noqa: BLE001 - reported to the parent as a Failed result
            conn.send((index, Failed(repr(err))))


@dataclass
class _Slot:
    proc: BaseProcess
    conn: Connection
    ready: bool = False
    index: int | None = None
    deadline: float = 0.0  # wall clock
    cpu_at_start: float = 0.0
    cpu_limit: float = 0.0


class TimedPool(Generic[J]):
    """`map(jobs)` -> results in job order; a result is fn's value, TimedOut or Failed.

    `limit(job)` is the CPU seconds the job may use.
    """

    def __init__(
        self,
        fn: Callable[[J], Any],
        limit: Callable[[J], float],
        *,
        workers: int,
        init: Callable[..., None] | None = None,
        init_args: tuple[Any, ...] = (),
        label: str = "jobs",
    ) -> None:
        self._fn = fn
        self._limit = limit
        self._n = max(1, min(workers, os.cpu_count() or 1))
        self._init = init
        self._init_args = init_args
        self._label = label
        self._ctx = mp.get_context("fork")
        self.timeouts = 0
        self.restarts = 0

    def _spawn(self) -> _Slot:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_worker, args=(child, self._init, self._init_args, self._fn), daemon=True
        )
        proc.start()
        child.close()
        return _Slot(proc, parent, deadline=time.monotonic() + INIT_TIMEOUT_S)

    @staticmethod
    def _kill(slot: _Slot) -> None:
        if slot.proc.is_alive():
            slot.proc.kill()
        slot.proc.join(5)
        slot.conn.close()

    def map(self, jobs: Sequence[J]) -> list[Any]:
        results: list[Any] = [None] * len(jobs)
        pending = list(range(len(jobs)))
        pending.reverse()  # pop() from the end = job order
        slots = [self._spawn() for _ in range(min(self._n, max(1, len(jobs))))]
        done = 0
        started = last_log = time.monotonic()
        try:
            while done < len(jobs):
                for slot in slots:
                    if slot.ready and slot.index is None and pending:
                        i = pending.pop()
                        slot.index = i
                        slot.cpu_limit = self._limit(jobs[i])
                        slot.cpu_at_start = process_cpu_s(slot.proc.pid or 0) or 0.0
                        slot.deadline = time.monotonic() + WALL_FACTOR * slot.cpu_limit
                        slot.conn.send((i, jobs[i]))
                now = time.monotonic()
                busy = [s for s in slots if not s.ready or s.index is not None]
                if not busy:
                    break
                timeout = min(1.0, max(0.0, min(s.deadline for s in busy) - now))
                ready = wait([s.conn for s in busy], timeout=timeout)
                for slot in list(slots):
                    if slot.conn in ready:
                        try:
                            msg = slot.conn.recv()
                        except (EOFError, OSError):
                            msg = None
                        if msg is None:  # the worker died
                            if slot.index is not None:
                                results[slot.index] = Failed("worker died")
                                done += 1
                            slots[slots.index(slot)] = self._replace(slot)
                            continue
                        if msg[0] == "ready":
                            slot.ready = True
                            continue
                        index, value = msg
                        results[index] = value
                        slot.index = None
                        done += 1
                    elif self._overrun(slot):
                        if slot.index is None:
                            raise RuntimeError(f"{self._label}: a worker did not start")
                        _LOG.warning(
                            "%s: job %d did not finish in %.0f s of CPU; worker killed",
                            self._label,
                            slot.index,
                            slot.cpu_limit,
                        )
                        results[slot.index] = TimedOut(slot.cpu_limit)
                        self.timeouts += 1
                        done += 1
                        slots[slots.index(slot)] = self._replace(slot)
                if time.monotonic() - last_log > 60:
                    last_log = time.monotonic()
                    _LOG.info(
                        "%s: %d/%d done, %.0f s", self._label, done, len(jobs), last_log - started
                    )
        finally:
            for slot in slots:
                if slot.proc.is_alive():
                    with contextlib.suppress(OSError):
                        slot.conn.send(None)
                slot.proc.join(2)
                self._kill(slot)
        return results

    @staticmethod
    def _overrun(slot: _Slot) -> bool:
        if time.monotonic() >= slot.deadline:
            return True
        if slot.index is None:
            return False
        used = process_cpu_s(slot.proc.pid or 0)
        return used is not None and used - slot.cpu_at_start > slot.cpu_limit

    def _replace(self, slot: _Slot) -> _Slot:
        self._kill(slot)
        self.restarts += 1
        return self._spawn()
