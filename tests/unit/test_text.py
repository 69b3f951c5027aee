"""The search text rules shared by SQLite and PostgreSQL."""

from __future__ import annotations

from core.text import MAX_QUERY_TERMS, query_terms, stem, stems


def test_word_forms_share_a_stem() -> None:
    assert stem("чайники") == stem("чайник") == stem("чайника")
    assert stem("электрические") == stem("электрический")
    assert stem("headphones") == stem("headphone")


def test_short_words_stay_whole_so_they_do_not_match_too_much() -> None:
    assert stem("чай") == "чай"
    assert stem("чаю") == "чаю"


def test_documents_are_indexed_as_lowercase_stems_with_yo_folded() -> None:
    assert stems("Чайник Электрический, ЁЛКА 1.7 л") == "чайник электрическ елк 1 7 л"


def test_queries_try_each_word_as_typed_and_as_its_stem() -> None:
    assert query_terms("Чайники BOSCH") == [("чайники", "чайник"), ("bosch",)]
    assert query_terms("чайн") == [("чайн",)]


def test_queries_keep_only_letters_and_digits_and_a_bounded_number_of_words() -> None:
    assert query_terms('"; DROP TABLE x; --') == [("drop",), ("table", "tabl")]
    assert query_terms("!!! ***") == []
    assert len(query_terms(" ".join(f"слово{i}" for i in range(30)))) == MAX_QUERY_TERMS


def test_one_letter_words_are_not_prefixes_of_everything() -> None:
    assert query_terms("кофе в зернах") == [("кофе", "коф"), ("зернах", "зерн")]
    assert query_terms("iphone 5 s") == [("iphone", "iphon"), ("5",)]


def test_a_stem_one_letter_long_meets_its_shorter_twin() -> None:
    (forms,) = query_terms("сковородки")
    assert stem("сковорода") in forms
