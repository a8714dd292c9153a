"""The dashboard in a real headless Chromium (Debian's chromium, driven by Playwright), against
the real coach: `build_coach` with silent speech on a faster clock, served by waitress on
127.0.0.1. Starts the quick routine, waits for the hold, sees the countdown move, clicks Pause
and sees paused: true in /status; then walks the other states (intro, a stop confirmation
answered with the dashboard's Yes/No, the side switch, the rest, finished).
Set STRETCH_COACH_SCREENSHOT=docs/dashboard.png to refresh the screenshot kept in docs/.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_coach import Live, live_coach

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
RING_CIRCUMFERENCE = 2 * 3.141592653589793 * 45


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, live: Live) -> tuple[Any, list[str]]:
    """The dashboard, live on /events, and the JS errors it logs (CSP violations included)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live.server.url + "/")
    page.wait_for_selector("#connection[data-state='live']")
    return page, errors


def text(page: Any, selector: str) -> str:
    return str(page.text_content(selector) or "").strip()


def countdown(page: Any) -> int:
    return int(text(page, "#countdown"))


def ring_fraction(page: Any) -> float:
    offset = float(page.get_attribute("#ring-bar", "stroke-dashoffset"))
    return 1 - offset / RING_CIRCUMFERENCE


def wait_until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    # Polled from Python: the page's CSP (rightly) forbids the eval that
    # page.wait_for_function would need.
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.03)


def page_state(page: Any) -> str:
    return str(page.get_attribute("body", "data-state"))


def test_dashboard_counts_down_a_real_hold_and_pause_reaches_the_coach(
    browser: Any, tmp_path: Path
) -> None:
    with live_coach(time_scale=4) as live:
        live.command("start the quick routine")
        live.command("next")  # past the introduction to the first stretch
        page, errors = open_page(browser, live)

        status = live.wait_for(lambda s: s["state"] == "instruct", "the first step")
        wait_until(lambda: page_state(page) == "instruct", "the step on the page")
        assert text(page, "#stretch") == "Kneeling lunge"
        wait_until(lambda: text(page, "#step-text") == live.status()["step_text"], "step text")
        assert "step" in text(page, "#step-count") and "of 4" in text(page, "#step-count")

        status = live.wait_for(lambda s: s["state"] == "hold", "the hold")
        wait_until(lambda: page_state(page) == "hold", "the hold on the page")
        assert status["hold_seconds"] == 30 and status["side"] == "left"
        # In a hold the coach gives the stretch's last step as the step text.
        assert text(page, "#step-text") == status["step_text"]
        assert status["step_text"].startswith("Keep your back tall and straight.")
        assert text(page, "#side").lower() == "left side"
        assert text(page, "#countdown-label") == "hold"

        wait_until(lambda: text(page, "#countdown").isdigit(), "a countdown")
        first = countdown(page)
        assert 0 < first <= 30
        wait_until(lambda: countdown(page) < first, "the countdown to move")
        # Mid-hold, just after the coach re-synced the page with "20 seconds left".
        wait_until(lambda: countdown(page) <= 20, "20 seconds left")
        assert 0 < ring_fraction(page) < 1
        shot = os.environ.get("STRETCH_COACH_SCREENSHOT")
        page.screenshot(path=shot or str(tmp_path / "dashboard.png"))

        page.click("nav button[data-command='pause']")
        paused = live.wait_for(lambda s: s["paused"] is True, "paused: true in /status")
        assert paused["state"] == "hold"
        page.wait_for_selector("#ind-paused[data-on='true']")
        wait_until(lambda: text(page, "#last-heard") == "pause", "last heard")
        assert text(page, "#reply").startswith("Paused with")
        assert text(page, "#countdown-label") == "paused"
        frozen_page, frozen_coach = countdown(page), paused["remaining_seconds"]
        time.sleep(1.5)  # six seconds on the coach's clock
        assert countdown(page) == frozen_page  # paused: the ring stops
        assert live.status()["remaining_seconds"] == frozen_coach  # and so does the coach

        page.click("nav button[data-command='resume']")
        page.wait_for_selector("#ind-paused[data-on='false']")
        assert live.status()["paused"] is False
        wait_until(lambda: countdown(page) < frozen_page, "the countdown to move again")
        assert errors == []  # no JS errors, no CSP violations


def test_dashboard_follows_every_state_of_a_real_routine(browser: Any) -> None:
    with live_coach(time_scale=8) as live:
        page, errors = open_page(browser, live)
        assert page_state(page) == "idle"
        assert text(page, "#stretch") == "Say “start the quick routine”"
        assert (text(page, "#countdown"), text(page, "#countdown-label")) == ("–", "idle")
        assert page.is_hidden("#confirm") and page.is_hidden("#side")

        page.click("nav button[data-command='start the quick routine']")
        wait_until(lambda: page_state(page) == "intro", "the introduction")
        assert text(page, "#routine") == "Quick routine"

        # "stop" this early asks first; the dashboard offers the answers as buttons.
        page.click("nav button[data-command='stop']")
        page.wait_for_selector("#confirm:not([hidden])")
        assert live.status()["awaiting"] == "confirm_stop"
        assert "Do you want to stop?" in text(page, "#reply")
        page.click("#confirm button[data-command='no']")
        page.wait_for_selector("#confirm", state="hidden")
        assert live.status()["awaiting"] is None
        assert text(page, "#last-heard") == "no"

        live.command("next")  # to the first stretch
        wait_until(lambda: page_state(page) == "switch", "the side switch", timeout=20)
        # A switch counts down with no hold_seconds; the side is the one coming next.
        assert (
            text(page, "#countdown").isdigit() and text(page, "#countdown-label") == "switch sides"
        )
        assert text(page, "#side").lower() == "right side"
        assert text(page, "#step-text") == "Switch sides: right side next."
        assert ring_fraction(page) > 0

        wait_until(lambda: page_state(page) == "rest", "the rest", timeout=20)
        status = live.status()
        assert status["hold_seconds"] is None and status["remaining_seconds"] is not None
        assert text(page, "#countdown").isdigit() and text(page, "#countdown-label") == "rest"
        assert text(page, "#step-text") == "Rest." and page.is_hidden("#side")
        assert ring_fraction(page) > 0

        live.command("next")  # the last stretch
        wait_until(lambda: text(page, "#stretch") == "Supine psoas stretch", "stretch 2")
        assert text(page, "#step-count").startswith("Stretch 2 of 2")
        live.command("next")  # past the last stretch: the session ends
        wait_until(lambda: page_state(page) == "finished", "the end")
        assert text(page, "#stretch") == "Session finished. Well done."
        assert (text(page, "#countdown"), text(page, "#countdown-label")) == ("✓", "finished")
        assert page.get_attribute("#progress", "aria-valuenow") == "100"
        assert page.is_hidden("#confirm")
        assert errors == []
