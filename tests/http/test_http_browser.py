"""The dashboard in a real headless Chromium (Debian's chromium, driven by Playwright).

Starts a real waitress server on 127.0.0.1 against a demo session that counts down by the
clock, loads the page, sees the countdown move, clicks Pause and sees paused: true in /status.
Set STRETCH_COACH_SCREENSHOT=docs/dashboard.png to refresh the screenshot kept in docs/.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from voice.http import EventHub, create_app, start_server
from voice.http.demo import DemoSession
from voice.http.server import ServerHandle

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOLD_SECONDS = 30.0
SKIP_INTO_HOLD = 12.0  # so the screenshot shows a ring part-way round


class Session:
    """A demo session on a clock the test can move forward, plus its ticker."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.hub = EventHub()
        self.demo = DemoSession(self.hub, hold_seconds=HOLD_SECONDS, clock=self.now)
        self.stop = threading.Event()

    def now(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def session() -> Iterator[Session]:
    s = Session()
    s.demo.command("start the quick routine")
    s.demo.command("next")
    s.demo.command("next")  # now in the hold of the first stretch
    s.offset += SKIP_INTO_HOLD
    s.demo.run_ticker(s.stop, period=0.5)
    yield s
    s.stop.set()


@pytest.fixture
def server(session: Session) -> Iterator[ServerHandle]:
    app = create_app(session.demo.status, session.demo.command, session.hub)
    handle = start_server(app, "127.0.0.1", 0)
    yield handle
    handle.stop()


@pytest.fixture
def page(server: ServerHandle) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page and the JS errors it logs (CSP violations included)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page, errors
        finally:
            browser.close()


def get_status(server: ServerHandle) -> dict[str, Any]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request("GET", "/status")
        body: dict[str, Any] = json.loads(conn.getresponse().read())
        return body
    finally:
        conn.close()


def countdown(page: Any) -> int:
    return int(page.text_content("#countdown"))


def wait_until(check: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    # Polled from Python: the page's CSP (rightly) forbids the eval that
    # page.wait_for_function would need.
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_dashboard_counts_down_live_and_pause_reaches_the_coach(
    page: tuple[Any, list[str]], server: ServerHandle, tmp_path: Path
) -> None:
    page, errors = page
    page.goto(server.url + "/")
    page.wait_for_selector("#connection[data-state='live']")
    wait_until(lambda: page.text_content("#countdown").isdigit(), what="a countdown")
    assert page.text_content("#stretch") == "Kneeling lunge"
    assert page.text_content("#side").strip().lower() == "left side"
    assert "Shift your weight forward" in page.text_content("#step-text")
    assert page.get_attribute("#ind-listening", "data-on") == "true"

    first = countdown(page)
    assert 0 < first <= HOLD_SECONDS - SKIP_INTO_HOLD + 1
    wait_until(lambda: countdown(page) < first, what="the countdown to move")
    style = page.get_attribute("#progress-bar", "style") or ""
    assert 0 < float(style.split("width:")[1].split("%")[0]) < 100

    shot = os.environ.get("STRETCH_COACH_SCREENSHOT")
    page.screenshot(path=shot or str(tmp_path / "dashboard.png"))  # mid-hold

    page.click("button[data-command='pause']")
    wait_until(lambda: get_status(server)["paused"] is True, what="paused: true in /status")
    page.wait_for_selector("#ind-paused[data-on='true']")
    wait_until(lambda: page.text_content("#last-heard") == "pause", what="last heard")
    assert "Paused" in page.text_content("#reply")
    frozen = countdown(page)
    time.sleep(1.5)
    assert countdown(page) == frozen  # paused: the ring stops

    page.click("button[data-command='resume']")
    page.wait_for_selector("#ind-paused[data-on='false']")
    assert errors == []  # no JS errors, no CSP violations
