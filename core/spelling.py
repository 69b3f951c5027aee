"""Spelling correction of search queries against the catalogue's own words: «чайнек» → «чайник»,
«пылисос» → «пылесос», «bossch» → «bosch».

A query word is left alone when the search index can match it (some indexed stem begins with
the word or with its stem: the search's prefix semantics, core/text.py); otherwise it is replaced
by the closest catalogue word within one edit (words of up to five letters) or two, the one most
products use on a tie. The edit distance lookup is SymSpell's (symspellpy): a few microseconds a
word, whatever the vocabulary's size.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from symspellpy import SymSpell, Verbosity

from core.text import stem, words

MIN_WORD = 3  # shorter words are prefixes being typed, or prepositions: never corrected
SHORT_WORD = 5  # up to this many letters one edit away, longer ones two
MAX_DISTANCE = 2


class Speller:
    """The catalogue's words (as written, lower case, ё→е) with their stems and how many products
    use each; grows as `add` is given new ones."""

    def __init__(self) -> None:
        self._symspell = SymSpell(max_dictionary_edit_distance=MAX_DISTANCE, prefix_length=7)
        self._stems: list[str] = []  # sorted: bisect finds whether a stem begins with a term
        self._known: set[str] = set()

    def __len__(self) -> int:
        return len(self._known)

    def add(self, entries: Iterable[tuple[str, str, int]]) -> None:
        """(word, stem, products) of catalogue words; a word already known gets its count added."""
        fresh: list[str] = []
        for word, word_stem, products in entries:
            self._symspell.create_dictionary_entry(word, max(products, 1))
            if word_stem not in self._known:
                self._known.add(word_stem)
                fresh.append(word_stem)
        if fresh:
            self._stems = sorted(set(self._stems).union(fresh))

    def matches(self, term: str) -> bool:
        """Whether some catalogue stem begins with `term` (the search would match it)."""
        at = bisect.bisect_left(self._stems, term)
        return at < len(self._stems) and self._stems[at].startswith(term)

    def correct_word(self, word: str) -> str | None:
        """The catalogue word `word` was most likely meant to be, or None if it needs no
        correction or nothing is close enough."""
        if len(word) < MIN_WORD or word.isdigit() or self.matches(word) or self.matches(stem(word)):
            return None
        distance = 1 if len(word) <= SHORT_WORD else MAX_DISTANCE
        found = self._symspell.lookup(word, Verbosity.CLOSEST, max_edit_distance=distance)
        if not found:
            return None
        best = min(found, key=lambda item: (item.distance, -item.count, item.term))
        term: str = best.term
        return term

    def correct(self, query: str) -> str | None:
        """The query with each mistyped word corrected (its words lower case, space separated),
        or None when no word was corrected."""
        typed = words(query)
        fixed = [self.correct_word(word) or word for word in typed]
        return " ".join(fixed) if fixed != typed else None
