"""Search text: one tokenizer and one Russian/English stemmer for SQLite and PostgreSQL alike, so
"чайник" finds "чайники" the same way on both and the search index stores stems, not words."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 8
_WORD = re.compile(r"[0-9a-zа-я]+")
_russian = snowballstemmer.stemmer("russian")
_english = snowballstemmer.stemmer("english")


def normalize(text: str) -> str:
    return text.lower().replace("ё", "е")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of one lower-case word (Russian or English by its letters); a word whose stem would
    be shorter than three letters stays whole ("чай" → "ча" would match "час" and "чашка")."""
    if word.isdigit() or len(word) <= 3:
        return word
    stemmer = _russian if "а" <= word[0] <= "я" or "а" <= word[-1] <= "я" else _english
    result: str = stemmer.stemWord(word)
    return result if len(result) >= 3 else word


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def stems(text: str) -> str:
    """The document form for the index: the stems of every word, space separated."""
    return " ".join(stem(word) for word in words(text))


def query_terms(query: str) -> list[tuple[str, ...]]:
    """What a query looks for: per word, the prefixes any of which may match an indexed stem.

    Each word is tried as typed (so "чайн" finds "чайник" while typing) and as its stem (so
    "чайники" finds "чайник"). Duplicates are dropped; at most MAX_QUERY_TERMS words count.
    """
    groups: dict[tuple[str, ...], None] = {}
    for word in words(query[:MAX_QUERY_CHARS]):
        if len(word) == 1 and not word.isdigit():
            continue  # "в", "с", "и": as a prefix it would match every word it starts
        forms = [word, stem(word)]
        if len(forms[1]) >= 7:
            # Snowball stems some forms a letter longer than others ("сковородки" →
            # "сковородк", "сковорода" → "сковород"): one letter less meets both.
            forms.append(forms[1][:-1])
        groups.setdefault(tuple(dict.fromkeys(forms)))
    return list(groups)[:MAX_QUERY_TERMS]
