"""Keep what the recognizer hears in a WAV file: the only way to know, after a session, what a
misheard command or a false activation sounded like after echo cancellation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voice.hearing.audio_files import SAMPLE_RATE
from voice.ports import AudioSource


class RecordingSource:
    """An AudioSource that passes chunks through and writes them to `path` as it goes."""

    def __init__(self, source: AudioSource, path: Path) -> None:
        import soundfile

        self._source = source
        self._file: Any = soundfile.SoundFile(
            str(path), "w", samplerate=SAMPLE_RATE, channels=1, subtype="PCM_16"
        )

    def chunks(self) -> Iterator[bytes]:
        import numpy as np

        try:
            for chunk in self._source.chunks():
                self._file.write(np.frombuffer(chunk, dtype="<i2"))
                yield chunk
        finally:
            self._file.close()

    def close(self) -> None:
        self._source.close()
