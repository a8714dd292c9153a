"""Guess CMU (ARPAbet) pronunciations for words CMUdict lacks ("psoas"), via espeak-ng.

Any sentence file may use words outside the dictionary; rather than fail, we ask espeak-ng
for IPA phonemes and map them onto the acoustic model's phone set.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterable

_LOG = logging.getLogger(__name__)

# espeak-ng en-us IPA -> ARPAbet; stress marks are stripped first.
_IPA: dict[str, str] = {
    "ɑː": "AA",
    "ɑ": "AA",
    "ɒ": "AA",
    "æ": "AE",
    "a": "AE",
    "ʌ": "AH",
    "ə": "AH",
    "ɐ": "AH",
    "ɔː": "AO",
    "ɔ": "AO",
    "aʊ": "AW",
    "aɪ": "AY",
    "ɛ": "EH",
    "e": "EH",
    "ɜː": "ER",
    "ɝ": "ER",
    "ɚ": "ER",
    "eɪ": "EY",
    "ɪ": "IH",
    "ᵻ": "IH",
    "i": "IY",
    "iː": "IY",
    "oʊ": "OW",
    "o": "OW",
    "ɔɪ": "OY",
    "ʊ": "UH",
    "u": "UW",
    "uː": "UW",
    "ɑːɹ": "AA R",
    "ɔːɹ": "AO R",
    "oːɹ": "AO R",
    "ɛɹ": "EH R",
    "ɪɹ": "IH R",
    "ʊɹ": "UH R",
    "aɪɚ": "AY ER",
    "aʊɚ": "AW ER",
    "iə": "IY AH",
    "b": "B",
    "tʃ": "CH",
    "d": "D",
    "ð": "DH",
    "f": "F",
    "ɡ": "G",
    "g": "G",
    "h": "HH",
    "dʒ": "JH",
    "k": "K",
    "l": "L",
    "m": "M",
    "n": "N",
    "ŋ": "NG",
    "p": "P",
    "ɹ": "R",
    "r": "R",
    "s": "S",
    "ʃ": "SH",
    "t": "T",
    "θ": "TH",
    "v": "V",
    "w": "W",
    "j": "Y",
    "z": "Z",
    "ʒ": "ZH",
    "ɾ": "T",
    "ʔ": "T",
    "x": "K",
    "n̩": "AH N",
    "l̩": "AH L",
}


def ipa_to_arpabet(ipa: str) -> str | None:
    """`ipa` is espeak-ng output with phonemes separated by '_'."""
    phones: list[str] = []
    for token in ipa.replace("ˈ", "").replace("ˌ", "").split("_"):
        token = token.strip()
        if not token:
            continue
        mapped = _IPA.get(token) or _IPA.get(token.replace("ː", ""))
        if mapped is None:
            _LOG.debug("no ARPAbet for IPA %r", token)
            continue
        phones.extend(mapped.split())
    return " ".join(phones) or None


def guess_pronunciations(words: Iterable[str], voice: str = "en-us") -> dict[str, str]:
    """ARPAbet for each word espeak-ng can say; words it cannot are left out."""
    words = list(words)
    exe = shutil.which("espeak-ng")
    if exe is None or not words:
        return {}
    out: dict[str, str] = {}
    for word in words:
        try:
            proc = subprocess.run(
                [exe, "-q", "--ipa", "--sep=_", "-v", voice, word],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as err:
            _LOG.warning("espeak-ng failed for %r: %s", word, err)
            continue
        phones = ipa_to_arpabet(proc.stdout.strip().replace(" ", "_"))
        if phones:
            out[word] = phones
    return out
