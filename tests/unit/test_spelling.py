"""Spelling correction against the catalogue's words (core/spelling.py): mistyped words become
the closest catalogue word, words the index can match are left alone."""

from __future__ import annotations

from core.spelling import Speller
from core.text import stem


def speller(*entries: tuple[str, int]) -> Speller:
    result = Speller()
    result.add((word, stem(word), products) for word, products in entries)
    return result


CATALOGUE = speller(
    ("чайник", 120),
    ("электрический", 90),
    ("пылесос", 40),
    ("bosch", 60),
    ("кофеварка", 20),
    ("капельная", 15),
    ("чашка", 10),
    ("часы", 30),
)


def test_the_typos_shoppers_make_are_corrected() -> None:
    assert CATALOGUE.correct("чайнек") == "чайник"
    assert CATALOGUE.correct("пылисос") == "пылесос"
    assert CATALOGUE.correct("bossch") == "bosch"
    assert CATALOGUE.correct("кофеворка") == "кофеварка"  # two letters off
    assert CATALOGUE.correct("Чайнек  Электрические") == "чайник электрические"


def test_words_the_index_matches_stay_as_typed() -> None:
    assert CATALOGUE.correct("чайники") is None, "a word form"
    assert CATALOGUE.correct("чайн") is None, "a prefix being typed"
    assert CATALOGUE.correct("кофеварка bosch") is None
    assert CATALOGUE.correct("чайнек bosch") == "чайник bosch", "only the mistyped word changes"


def test_short_words_and_numbers_are_never_corrected() -> None:
    assert CATALOGUE.correct("чй") is None
    assert CATALOGUE.correct("12345") is None


def test_nothing_close_enough_is_no_correction() -> None:
    assert CATALOGUE.correct("телевизор") is None
    assert CATALOGUE.correct("чсы") == "часы"  # one edit in a short word
    assert CATALOGUE.correct("чшкаа") is None, "two edits in a five-letter word are too many"


def test_a_tie_goes_to_the_word_more_products_use() -> None:
    tie = speller(("кот", 5), ("кит", 50))
    assert tie.correct("кут") == "кит"


def test_words_added_later_are_corrected_to() -> None:
    growing = speller(("чайник", 1))
    assert growing.correct("гирлянта") is None
    growing.add([("гирлянда", stem("гирлянда"), 1)])
    assert growing.correct("гирлянта") == "гирлянда"
    assert len(growing) == 2
