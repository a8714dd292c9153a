"""kill -9 while the position is being written: the file stays sound and the last committed
position is there for the next run (what the resume offer will read)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from voice.store.history import HistoryStore

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from voice.store.history import HistoryStore

    store = HistoryStore(Path(sys.argv[1]))
    i = 0
    while True:  # a session that never ends: status changes as fast as they can be written
        side = "left" if i % 2 else "right"
        store.save_position({"state": "hold", "routine": "quick", "stretch": "kneeling_lunge",
                             "stretch_index": 0, "side": side, "remaining_seconds": i % 30})
        if i == 50:
            print("writing", flush=True)
        i += 1
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_write_leaves_a_sound_file_and_a_position(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    warn = io.StringIO()
    with HistoryStore(path, warn=warn) as store:
        pos = store.load_position()
    assert warn.getvalue() == ""  # not treated as corrupt
    assert list(tmp_path.glob("*.corrupt-*")) == []
    assert pos is not None
    assert (pos["routine"], pos["stretch"], pos["state"]) == ("quick", "kneeling_lunge", "hold")
    assert pos["side"] in ("left", "right")
