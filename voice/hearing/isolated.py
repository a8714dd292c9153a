"""Run the recognizer in its own process.

PocketSphinx holds Python's GIL for as long as it decodes (measured: a 7 s decode let another
thread run twice). In the coach's process that freezes the counting, the speaker, the sound
card's callback and the HTTP server whenever a long utterance is searched. In a child process
the decoder has a core of its own and the parent only waits on a pipe, which releases the
GIL. A decoder that crashes (or hangs) takes only the child with it; the listener's restart
policy builds a new one.

The child is a plain `python -m voice.hearing.isolated` with one end of a socket pair, not a
multiprocessing Process: spawning one also starts multiprocessing's resource tracker, a
third interpreter that cost 13 MB and did nothing here.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Mapping
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

from voice.hearing.engines import EngineSpec
from voice.hearing.grammar import CompiledGrammar
from voice.ports import Transcript

_LOG = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0  # building a decoder (model, grammars) on a busy machine
CALL_TIMEOUT_S = 30.0  # one chunk or flush; longer means the decoder hangs


class RecognizerFailed(RuntimeError):
    """The recognizer process raised, died or hung; the listener restarts it."""


def _serve(conn: Connection) -> None:
    from voice.hearing.engines import create

    try:
        spec, grammars = conn.recv()
        recognizer: Any = create(spec, grammars)
    except Exception as err:  # noqa: BLE001 - reported to the parent as one line
        conn.send(("error", f"cannot build the recognizer: {type(err).__name__}: {err}"))
        return
    conn.send(("ok", None))
    while True:
        try:
            method, args = conn.recv()
        except (EOFError, OSError):  # the parent went away
            break
        try:
            conn.send(("ok", getattr(recognizer, method)(*args)))
        except Exception as err:  # noqa: BLE001 - the parent decides what a failure means
            conn.send(("error", f"{type(err).__name__}: {err}"))
        if method == "close":
            break


class IsolatedRecognizer:
    """A Recognizer whose engine runs in a child process."""

    def __init__(self, spec: EngineSpec, grammars: Mapping[str, CompiledGrammar]) -> None:
        self._conn, child = Pipe()
        # A new interpreter, never a fork of a process with audio threads.
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voice.hearing.isolated",
                str(child.fileno()),
                str(logging.getLogger().getEffectiveLevel()),
            ],
            pass_fds=[child.fileno()],
            stdin=subprocess.DEVNULL,
        )
        child.close()
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._conn.send((spec, dict(grammars)))
        except OSError as err:
            raise self._died(err) from err
        self._reply(START_TIMEOUT_S)

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def set_grammar(self, name: str) -> None:
        self._call("set_grammar", name)

    def set_coach_playing(self, playing: bool) -> None:
        self._call("set_coach_playing", playing)

    def accept(self, pcm: bytes) -> Transcript | None:
        result: Transcript | None = self._call("accept", pcm)
        return result

    def partial(self) -> str:
        return str(self._call("partial"))

    def reconsider(self) -> Transcript | None:
        result: Transcript | None = self._call("reconsider")
        return result

    def flush(self) -> Transcript | None:
        result: Transcript | None = self._call("flush")
        return result

    def reset(self) -> None:
        self._call("reset")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.alive:
            try:
                with self._lock:
                    self._conn.send(("close", ()))
                    if self._conn.poll(5.0):
                        self._conn.recv()
            except (EOFError, OSError):
                pass
        try:
            self._proc.wait(2.0)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(2.0)
        self._conn.close()

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def _call(self, method: str, *args: Any) -> Any:
        with self._lock:
            if self._closed:
                raise RecognizerFailed("the recognizer is closed")
            try:
                self._conn.send((method, args))
            except (OSError, ValueError) as err:
                raise self._died(err) from err
            return self._reply(CALL_TIMEOUT_S)

    def _reply(self, timeout: float) -> Any:
        try:
            if not self._conn.poll(timeout):
                self._proc.kill()
                raise RecognizerFailed(f"the recognizer did not answer in {timeout:g} s")
            kind, value = self._conn.recv()
        except (EOFError, OSError) as err:
            raise self._died(err) from err
        if kind == "error":
            raise RecognizerFailed(str(value))
        return value

    def _died(self, err: BaseException) -> RecognizerFailed:
        try:
            code: int | None = self._proc.wait(1.0)
        except subprocess.TimeoutExpired:
            code = None
        return RecognizerFailed(f"the recognizer process died (exit code {code}): {err}")


if __name__ == "__main__":
    logging.basicConfig(level=int(sys.argv[2]), format="%(levelname)s %(name)s: %(message)s")
    _serve(Connection(int(sys.argv[1])))
