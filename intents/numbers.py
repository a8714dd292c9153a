"""Digits to English words, so that typed "30" and spoken "thirty" read the same."""

from __future__ import annotations

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()  # fmt: skip
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_to_words(n: int) -> str:
    """Words for 0 to 9999; larger numbers stay as digits (no command needs them)."""
    if n < 0 or n > 9999:
        return str(n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{number_to_words(thousands)} thousand" + (f" {number_to_words(rest)}" if rest else "")


_WORD_VALUES = {word: i for i, word in enumerate(_ONES)} | {
    word: 10 * i for i, word in enumerate(_TENS) if word != "_"
}


def words_to_number(text: str) -> int | None:
    """The number that words like "twenty five" name, or None."""
    total = 0
    words = text.replace("-", " ").split()
    if not words:
        return None
    for word in words:
        if word not in _WORD_VALUES:
            return None
        total += _WORD_VALUES[word]
    return total
