"""The demo session that stands in for the coach in `serve --demo`, the browser test and the
benchmark: it must count down, pause, resume, skip, stop and finish, and publish as it goes."""

from __future__ import annotations

import argparse

from voice.cli import cmd_serve, cmd_token
from voice.http.demo import DemoSession
from voice.http.hub import EventHub


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def started(hold: float = 30.0) -> tuple[DemoSession, FakeClock, EventHub]:
    clock, hub = FakeClock(), EventHub()
    session = DemoSession(hub, hold_seconds=hold, step_seconds=5.0, clock=clock)
    session.command("start the quick routine")
    return session, clock, hub


def to_hold(session: DemoSession) -> None:
    session.command("next")
    session.command("next")


def test_idle_until_started() -> None:
    session = DemoSession()
    assert session.status()["state"] == "idle"
    assert session.command("pause")["response"] == "Say start the quick routine to begin."
    assert session.command("banana")["intent"] is None


def test_hold_counts_down_and_pause_freezes_it() -> None:
    session, clock, _ = started()
    to_hold(session)
    status = session.status()
    assert (status["state"], status["remaining_seconds"], status["hold_seconds"]) == (
        "hold",
        30.0,
        30.0,
    )
    clock.t += 10
    assert session.status()["remaining_seconds"] == 20.0
    assert session.command("pause")["intent"] == "Pause"
    clock.t += 100
    assert session.status()["paused"] is True and session.status()["remaining_seconds"] == 20.0
    session.command("resume")
    clock.t += 5
    assert session.status()["remaining_seconds"] == 15.0 and not session.status()["paused"]


def test_steps_advance_by_the_clock_and_the_routine_completes() -> None:
    session, clock, _ = started(hold=10.0)
    for _ in range(20):
        clock.t += 10
        session.tick()
    status = session.status()
    assert status["state"] == "done" and status["progress"] == 1.0
    assert session.sessions_completed == 1


def test_progress_grows_and_stop_returns_to_idle() -> None:
    session, clock, _ = started()
    first = session.status()["progress"]
    to_hold(session)
    assert session.status()["progress"] > first
    assert session.command("repeat")["response"] == session.status()["step_text"]
    session.command("stop")
    assert session.status()["state"] == "idle"


def test_publishes_heard_said_and_status() -> None:
    clock, hub = FakeClock(), EventHub()
    sub = hub.subscribe()
    DemoSession(hub, clock=clock).command("start the quick routine")
    kinds = [e.kind for e in iter(lambda: sub.get(0.0), None)]
    assert kinds == ["heard", "said", "status"]


def test_cli_modules_register_their_subcommands() -> None:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    cmd_serve.register(subparsers)
    cmd_token.register(subparsers)
    args = parser.parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--demo"])
    assert (args.host, args.port, args.demo, args.func) == ("0.0.0.0", 9000, True, cmd_serve.run)
    args = parser.parse_args(["token", "--path"])
    assert args.func is cmd_token.run and args.path
