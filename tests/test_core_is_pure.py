"""The core (content, intents, the coach, the simulator) imports no adapter library."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = [
    "vosk",
    "pocketsphinx",
    "sounddevice",
    "pyttsx3",
    "flask",
    "waitress",
    "soundfile",
    "espeakng_loader",
]
CORE = [
    "content.loader",
    "content.check",
    "intents.matcher",
    "voice.coach.machine",
    "voice.simulate",
    "voice.fakes",
]

PROGRAM = f"""
import importlib.abc, sys
BLOCKED = {BLOCKED!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"core imported {{name}}")
        return None
sys.meta_path.insert(0, Block())
for module in {CORE!r}:
    importlib.import_module(module)
from content.loader import load_content
from intents.matcher import IntentMatcher
from voice.coach.machine import Coach
from voice.simulate import simulate, parse_script
content = load_content()
records = simulate(Coach(content), IntentMatcher.from_content(content), parse_script("0 start the quick routine"))
assert any(r.kind == "ended" for r in records)
print("pure")
"""


def test_core_imports_and_runs_with_adapter_packages_hidden() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "pure"
