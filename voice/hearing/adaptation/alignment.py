"""Which senone (and so which codebook) every frame of an utterance belongs to.

PocketSphinx aligns a known word sequence in two passes: a word alignment, then, with
`set_alignment`, the phone and state alignment. A state's name is its senone id; its phone's
base name picks the codebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voice.hearing.adaptation.cepstra import FrontEnd
from voice.hearing.adaptation.ptm_model import PtmModel
from voice.hearing.audio_files import SAMPLE_RATE, Pcm

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class AlignedFrames:
    senones: Ints
    codebooks: Ints


class Aligner:
    def __init__(self, model_dir: Path, dictionary: str, mllr: Path | None = None) -> None:
        import pocketsphinx

        params: dict[str, Any] = {
            "hmm": str(model_dir),
            "dict": dictionary,
            "lm": None,
            "samprate": SAMPLE_RATE,
            "loglevel": "FATAL",
        }
        if mllr is not None:
            params["mllr"] = str(mllr)
        self._decoder = pocketsphinx.Decoder(pocketsphinx.Config(**params))
        self.front = FrontEnd(self._decoder.config)

    def close(self) -> None:
        self.front.close()

    def align(self, pcm: Pcm, text: str, model: PtmModel) -> AlignedFrames | None:
        """The frames of `pcm` aligned to `text`; None when the words do not fit the audio."""
        audio = np.ascontiguousarray(pcm, dtype="<i2").tobytes()
        d = self._decoder
        try:
            d.set_align_text(text)
            self._pass(audio)
            d.set_alignment()
            self._pass(audio)
            alignment = d.get_alignment()
        except RuntimeError:  # no path through the words
            return None
        if alignment is None:
            return None
        senones: list[int] = []
        codebooks: list[int] = []
        for word in alignment:
            for phone in word:
                codebook = model.codebook(phone.name)
                for state in phone:
                    senones += [int(state.name)] * state.duration
                    codebooks += [codebook] * state.duration
        return AlignedFrames(np.array(senones, np.int64), np.array(codebooks, np.int64))

    def _pass(self, audio: bytes) -> None:
        self._decoder.start_utt()
        self._decoder.process_raw(audio, full_utt=True)
        self._decoder.end_utt()
