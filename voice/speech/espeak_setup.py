"""Make libespeak-ng loadable by pyttsx3 with pip alone.

pyttsx3's espeak driver finds the library by soname (``libespeak-ng.so.1``) when its module is
imported. On a machine without the Debian package that lookup fails, so before pyttsx3 is
imported we load the copy shipped in the ``espeakng-loader`` wheel with RTLD_GLOBAL: the dynamic
linker then answers pyttsx3's later ``dlopen("libespeak-ng.so.1")`` with the already-loaded
object (it matches on the soname). The wheel's library has no compiled-in data directory that
exists here, so ``ESPEAK_DATA_PATH`` must point at the wheel's ``espeak-ng-data`` as well.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Names pyttsx3 tries on Linux and macOS; if any loads, pyttsx3 will load the same one.
_SYSTEM_NAMES: tuple[str, ...] = (
    "libespeak-ng.so.1",
    "/usr/local/lib/libespeak-ng.so.1",
    "/opt/homebrew/lib/libespeak-ng.1.dylib",
    "/usr/local/lib/libespeak-ng.1.dylib",
)


class EspeakUnavailable(RuntimeError):
    """Neither a system libespeak-ng nor the espeakng-loader wheel could be loaded."""


@dataclass(frozen=True)
class EspeakLibrary:
    source: str  # "system" | "wheel"
    library: str
    data_path: str | None  # None: the library's compiled-in default


_lock = threading.Lock()
_found: EspeakLibrary | None = None
# Keep a reference so the RTLD_GLOBAL handle is never garbage-collected and unloaded.
_handle: ctypes.CDLL | None = None


def _try_system() -> EspeakLibrary | None:
    candidates = list(_SYSTEM_NAMES)
    found = ctypes.util.find_library("espeak-ng")
    if found:
        candidates.insert(0, found)
    for name in candidates:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return EspeakLibrary("system", name, os.environ.get("ESPEAK_DATA_PATH"))
    return None


def _load_wheel() -> EspeakLibrary:
    global _handle
    try:
        import espeakng_loader
    except ImportError as exc:
        raise EspeakUnavailable(
            "no system libespeak-ng and the espeakng-loader package is not installed"
        ) from exc
    lib_path = str(espeakng_loader.get_library_path())
    data_path = str(espeakng_loader.get_data_path())
    # Set before the library initialises: espeak reads ESPEAK_DATA_PATH in espeak_Initialize.
    os.environ["ESPEAK_DATA_PATH"] = data_path
    try:
        _handle = ctypes.CDLL(lib_path, mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        raise EspeakUnavailable(f"cannot load {lib_path}: {exc}") from exc
    return EspeakLibrary("wheel", lib_path, data_path)


def ensure_espeak(prefer_system: bool | None = None) -> EspeakLibrary:
    """Make libespeak-ng available to pyttsx3; idempotent and thread-safe.

    Must run before ``pyttsx3.drivers._espeak`` is first imported (it resolves the library at
    import time). Raises EspeakUnavailable when nothing can be loaded. With `prefer_system`
    unset, ``STRETCH_COACH_ESPEAK=wheel`` forces the wheel's copy: how to try the
    fresh-machine path on a machine that has the Debian package.
    """
    global _found
    if prefer_system is None:
        prefer_system = os.environ.get("STRETCH_COACH_ESPEAK", "").lower() != "wheel"
    with _lock:
        if _found is not None:
            return _found
        if "pyttsx3.drivers._espeak" in sys.modules:
            # Too late to influence pyttsx3; it already found a library, so report that.
            log.debug("pyttsx3's espeak driver was imported before ensure_espeak()")
        lib = _try_system() if prefer_system else None
        if lib is None:
            lib = _load_wheel()
        log.debug("libespeak-ng from %s: %s (data %s)", lib.source, lib.library, lib.data_path)
        _found = lib
        return lib
