"""The in-memory search index (core/search_index.py) on a handful of products: what matches, in
what order, and that an index extended with new products answers as one built at once."""

from __future__ import annotations

import pytest

from core.search_index import CANDIDATES, SearchIndex
from core.text import query_terms

PRODUCTS = [
    (1, "Чайник электрический Bosch", "Чайник на 1,7 л. Цвет: белый."),
    (2, "Чай чёрный листовой", "Чай из Индии, 100 г."),
    (3, "Чайник заварочный стеклянный", "Для чая. Цвет: прозрачный."),
    (5, "Кружка керамическая", "Для чая и кофе, белая."),
    (8, "Пылесос Bosch беспроводной", "Чайник в подарок не входит."),
]


def _ids(index: SearchIndex, query: str, offset: int = 0, limit: int = 20) -> list[int]:
    return index.search(query_terms(query), offset, limit)


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex.build(PRODUCTS)


def test_every_word_must_match_as_a_whole_stem_or_its_prefix(index: SearchIndex) -> None:
    assert set(_ids(index, "чайник bosch")) == {1, 8}, "one in the name, one in the description"
    assert _ids(index, "пылесос bosch") == [8]
    assert set(_ids(index, "чайн")) == {1, 3, 8}, "a prefix, as while typing"
    assert set(_ids(index, "чайники")) == {1, 3, 8}, "another form of the word"
    assert _ids(index, "чайник lego") == []
    assert _ids(index, "холодильник") == []


def test_a_whole_word_ranks_before_a_prefix_and_the_name_before_the_description(
    index: SearchIndex,
) -> None:
    first, *rest = _ids(index, "чай")
    assert first == 2, "«чай» itself, not the kettles it begins"
    assert set(rest) == {1, 3, 8}, "«чая» is a word of its own (under four letters: unstemmed)"
    found = _ids(index, "чайник")
    assert found.index(8) == len(found) - 1, "named in the description only: last"


def test_pages_cut_the_ranked_list(index: SearchIndex) -> None:
    ranked = _ids(index, "чай")
    assert _ids(index, "чай", 0, 2) + _ids(index, "чай", 2, 2) + _ids(index, "чай", 4, 2) == ranked
    assert _ids(index, "чай", len(ranked), 5) == []


def test_an_extended_index_answers_as_one_built_at_once(index: SearchIndex) -> None:
    grown = SearchIndex.build(PRODUCTS[:2]).extended(PRODUCTS[2:4]).extended(PRODUCTS[4:])
    assert len(grown) == len(index) == len(PRODUCTS)
    assert grown.nbytes == index.nbytes
    assert grown.last_id == 8
    for query in ("чай", "чайник", "bosch", "белый", "для чая", "кру", "пылесос"):
        assert _ids(grown, query) == _ids(index, query), query
    assert index.extended([]) is index


def test_products_must_come_in_id_order(index: SearchIndex) -> None:
    with pytest.raises(ValueError, match="ascending"):
        index.extended([(7, "Ложка", "")])
    with pytest.raises(ValueError, match="ascending"):
        SearchIndex.build([(2, "Ложка", ""), (1, "Вилка", "")])


def test_an_empty_index_finds_nothing() -> None:
    empty = SearchIndex.build([])
    assert len(empty) == 0
    assert empty.last_id == 0
    assert _ids(empty, "чайник") == []


def test_only_the_first_candidates_by_id_are_ranked() -> None:
    # The later product names "чайник" twice (it would rank first) but lies past the candidates.
    many = [(n, "Чайник", "") for n in range(1, CANDIDATES + 1)]
    index = SearchIndex.build([*many, (CANDIDATES + 1, "Чайник чайник", "")])
    found = _ids(index, "чайник", 0, CANDIDATES + 10)
    assert len(found) == CANDIDATES
    assert CANDIDATES + 1 not in found
