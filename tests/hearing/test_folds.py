"""Folds of a labelled set: adapt on some recordings, measure on the others."""

from __future__ import annotations

import pytest

from voice.hearing.folds import Fold, parse_fold


def test_a_fold_and_the_rest_split_the_set() -> None:
    items = list(range(10))
    fold = parse_fold("1/3")
    assert fold == Fold(1, 3) and str(fold) == "1/3"
    assert fold.take(items) == [1, 4, 7]
    assert sorted(fold.take(items) + fold.leave(items)) == items


@pytest.mark.parametrize("text", ["", "1", "2/2", "-1/2", "0/1", "a/b", "1/2/3"])
def test_a_bad_fold_is_one_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="a fold is K/N"):
        parse_fold(text)
