"""The bearer token that guards POST /command when the service is bound beyond localhost."""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from pathlib import Path

import platformdirs

APP_NAME = "stretch-coach"
HOME_ENV = "STRETCH_COACH_HOME"  # overrides the config dir (tests, portable installs)
TOKEN_FILE = "http-token"


def config_dir() -> Path:
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override)
    return platformdirs.user_config_path(APP_NAME)


def token_path() -> Path:
    return config_dir() / TOKEN_FILE


def load_or_create_token(path: Path | None = None) -> str:
    """The stored token; generated with mode 0600 on first use."""
    path = path or token_path()
    try:
        return _read_token(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        # O_EXCL: two processes starting at once must not each write a different token.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_token(path)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
    return token


def new_token(path: Path | None = None) -> str:
    """Replace the stored token (it leaked, or a device should lose access)."""
    path = path or token_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
    os.replace(tmp, path)  # atomic: a reader sees the old token or the new, never half
    return token


def _read_token(path: Path) -> str:
    token = path.read_text(encoding="ascii").strip()
    if not token:
        raise ValueError(f"token file {path} is empty; delete it to make a new one")
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # someone widened it; a readable token is no token
    return token


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries `token`, compared in constant time."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the service on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a hostname that may resolve anywhere: treat as exposed
