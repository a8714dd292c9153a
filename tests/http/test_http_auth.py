"""The bearer token file and its checks."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from voice.http.auth import (
    HOME_ENV,
    bearer_matches,
    is_loopback,
    load_or_create_token,
    new_token,
    token_path,
)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    return tmp_path / "home"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_token_is_made_once_with_mode_0600(home: Path) -> None:
    assert token_path() == home / "http-token"
    token = load_or_create_token()
    assert len(token) >= 40
    assert mode(token_path()) == 0o600
    assert mode(home) == 0o700
    assert load_or_create_token() == token


def test_widened_token_file_is_narrowed_again() -> None:
    load_or_create_token()
    token_path().chmod(0o644)
    load_or_create_token()
    assert mode(token_path()) == 0o600


def test_empty_token_file_is_an_error() -> None:
    token_path().parent.mkdir(parents=True)
    token_path().write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        load_or_create_token()


def test_new_token_replaces_the_old_one() -> None:
    old = load_or_create_token()
    new = new_token()
    assert new != old and load_or_create_token() == new
    assert mode(token_path()) == 0o600


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer s3cret", True),
        ("bearer s3cret", True),
        ("Bearer  s3cret ", True),
        ("Bearer s3cre", False),
        ("Bearer s3cretx", False),
        ("Basic s3cret", False),
        ("s3cret", False),
        ("", False),
        (None, False),
    ],
)
def test_bearer_matches(header: str | None, ok: bool) -> None:
    assert bearer_matches(header, "s3cret") is ok


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("coach.local", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_app_for_requires_the_token_only_beyond_localhost(home: Path) -> None:
    from voice.http import EventHub, ServiceParts, app_for

    parts = ServiceParts(status=lambda: {}, command=lambda text: {"intent": None}, hub=EventHub())
    local = app_for(parts, "127.0.0.1").test_client()
    assert local.post("/command", json={"text": "pause"}).status_code == 200
    assert not token_path().exists()
    exposed = app_for(parts, "0.0.0.0").test_client()
    assert exposed.post("/command", json={"text": "pause"}).status_code == 401
    headers = {"Authorization": f"Bearer {load_or_create_token()}"}
    assert exposed.post("/command", json={"text": "pause"}, headers=headers).status_code == 200
