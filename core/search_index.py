"""The catalogue's search index held in memory: an inverted index over the stems of each product's
name and description (core/text.py, as the database's index holds them), ranked by BM25 exactly
as SQLite's FTS5 `bm25()` ranks them (name weighted NAME_WEIGHT), with the matching rules of the
database's search (services/store.py): each query word matches an indexed stem whole or as a
prefix, every word must match, only the first CANDIDATES matches in id order are ranked.

Why in memory: a search through FTS5 or a GIN index cost ≈ 1–2 ms of the database plus the
driver's round trips; here it is ≈ 0.1 ms of numpy over arrays (bench/README.md). The index is
immutable: `extended` answers a new one with the products added since, which is all the
catalogue ever does to its search documents (products are added, never renamed or deleted).
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from core.text import stems

NAME_WEIGHT = 10.0  # as services/store.py's bm25(store_product_search, 10.0, 1.0)
BODY_WEIGHT = 1.0
K1, B = 1.2, 0.75  # FTS5's bm25 constants
# Ranking looks at the first CANDIDATES matches (here and in the database's search,
# services/store_search.py): the cost of a query stays bounded however common its words are.
CANDIDATES = 500
CHUNK = 4096  # matches of the rarest word checked against the others at a time
# Prefixes that span several indexed stems ("чайн" → чайник, чайнич…) are merged on first use and
# kept, least recently used dropped beyond this many postings (≈ 8 bytes each).
MERGED_POSTINGS = 4_000_000

Ids = npt.NDArray[np.int32]
Freqs = npt.NDArray[np.float32]
Document = tuple[int, str, str]  # product id, name, description


class IndexBuilder:
    """Postings gathered document by document: per stem, the documents' positions and their
    weighted counts (compact arrays: a million products fit). `add` batches, then `build`."""

    def __init__(self, first_position: int = 0, after_id: int = 0) -> None:
        self.postings: dict[str, tuple[array[int], array[float]]] = {}
        self.ids = array("q")
        self.lengths = array("f")
        self._position = first_position
        self._last_id = after_id

    def add(self, documents: Iterable[Document]) -> None:
        postings = self.postings
        for product_id, name, body in documents:
            if product_id <= self._last_id:
                raise ValueError("documents must come in ascending id order, after the indexed")
            self._last_id = product_id
            counts: dict[str, float] = {}
            name_words, body_words = stems(name).split(), stems(body).split()
            for word in name_words:
                counts[word] = counts.get(word, 0.0) + NAME_WEIGHT
            for word in body_words:
                counts[word] = counts.get(word, 0.0) + BODY_WEIGHT
            for word, weight in counts.items():
                found = postings.get(word)
                if found is None:
                    found = postings[word] = (array("i"), array("f"))
                found[0].append(self._position)
                found[1].append(weight)
            self.ids.append(product_id)
            self.lengths.append(len(name_words) + len(body_words))
            self._position += 1

    def build(self) -> SearchIndex:
        return _frozen(self, None)


class SearchIndex:
    """Every indexed product's stems; `search` answers the ids of a page of matches, best first."""

    def __init__(
        self,
        terms: list[str],
        starts: npt.NDArray[np.int64],
        docs: Ids,
        freqs: Freqs,
        ids: npt.NDArray[np.int64],
        lengths: Freqs,
    ) -> None:
        self._terms = terms  # sorted: a prefix's stems are a run of them
        self._starts = starts  # postings of terms[i]: docs[starts[i]:starts[i + 1]]
        self._docs = docs  # positions of documents, ascending within each term
        self._freqs = freqs
        self._ids = ids  # position → product id, ascending
        self._lengths = lengths  # words per document
        self._avgdl = float(lengths.mean()) if len(lengths) else 1.0
        self._merged: OrderedDict[tuple[int, int], tuple[Ids, Freqs]] = OrderedDict()
        self._merged_size = 0

    @classmethod
    def build(cls, documents: Iterable[Document]) -> SearchIndex:
        """The index of `documents`, in ascending id order."""
        builder = IndexBuilder()
        builder.add(documents)
        return builder.build()

    def extended(self, documents: Iterable[Document]) -> SearchIndex:
        """A new index: this one and `documents`, whose ids all follow `last_id`."""
        builder = IndexBuilder(len(self), self.last_id)
        builder.add(documents)
        return _frozen(builder, self) if builder.ids else self

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def nbytes(self) -> int:
        """The arrays' size (the merged prefixes kept besides are bounded by MERGED_POSTINGS)."""
        arrays = (self._starts, self._docs, self._freqs, self._ids, self._lengths)
        return sum(array.nbytes for array in arrays)

    @property
    def last_id(self) -> int:
        """The newest indexed product's id (0 when empty)."""
        return int(self._ids[-1]) if len(self._ids) else 0

    def search(self, terms: Sequence[tuple[str, ...]], offset: int, limit: int) -> list[int]:
        """Ids of the matches ranked offset … offset + limit − 1 (0-based) among the first
        CANDIDATES in id order. `terms` as core.text.query_terms answers them: per query word,
        the forms any of which may match a stem, whole or as a prefix."""
        phrases: list[tuple[int, int]] = []  # FTS5's phrases: "form" and "form"* per form
        groups: list[Ids] = []
        for forms in terms:
            prefixes = []
            for form in forms:
                whole, prefix = self._whole(form), self._prefix(form)
                phrases += [whole, prefix]
                prefixes.append(prefix)
            groups.append(self._union(prefixes))
        candidates = _first_common(groups, CANDIDATES)
        if not len(candidates):
            return []
        scores = self._bm25(candidates, phrases)
        order = np.lexsort((candidates, -scores))[offset : offset + limit]
        return [int(product_id) for product_id in self._ids[candidates[order]]]

    # --- internals ------------------------------------------------------------------------

    def _whole(self, form: str) -> tuple[int, int]:
        at = bisect.bisect_left(self._terms, form)
        found = at < len(self._terms) and self._terms[at] == form
        return at, at + 1 if found else at

    def _prefix(self, form: str) -> tuple[int, int]:
        at = bisect.bisect_left(self._terms, form)
        return at, bisect.bisect_left(self._terms, form + "\uffff", at)

    def _postings(self, run: tuple[int, int]) -> tuple[Ids, Freqs]:
        """The documents holding any stem of the run `run` and their summed weighted counts."""
        low, high = run
        begin, end = int(self._starts[low]), int(self._starts[high])
        if high - low <= 1:
            return self._docs[begin:end], self._freqs[begin:end]
        merged = self._merged.get(run)
        if merged is not None:
            self._merged.move_to_end(run)
            return merged
        docs, inverse = np.unique(self._docs[begin:end], return_inverse=True)
        freqs = np.bincount(inverse, weights=self._freqs[begin:end]).astype(np.float32)
        self._merged[run] = merged = (docs, freqs)
        self._merged_size += len(docs)
        while self._merged_size > MERGED_POSTINGS and len(self._merged) > 1:
            _, (dropped, _) = self._merged.popitem(last=False)
            self._merged_size -= len(dropped)
        return merged

    def _union(self, runs: list[tuple[int, int]]) -> Ids:
        """The documents any of the runs (a word's forms as prefixes) matches."""
        runs = sorted(runs)
        joined = [list(runs[0])]
        for low, high in runs[1:]:  # a word's stem is mostly a prefix of it: one run holds both
            if low <= joined[-1][1]:
                joined[-1][1] = max(joined[-1][1], high)
            else:
                joined.append([low, high])
        parts = [self._postings((low, high))[0] for low, high in joined]
        return parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))

    def _bm25(self, candidates: Ids, phrases: list[tuple[int, int]]) -> npt.NDArray[np.float64]:
        """FTS5's bm25 of each candidate (larger is better): per phrase, IDF × saturated count."""
        total = len(self._ids)
        norm = K1 * (1 - B + B * self._lengths[candidates].astype(np.float64) / self._avgdl)
        scores = np.zeros(len(candidates), dtype=np.float64)
        # A word's whole-stem and prefix phrases are often the same run of stems: each distinct
        # run is scored once and added as often as it occurs, in order (the sums stay FTS5's).
        scored: dict[tuple[int, int], npt.NDArray[np.float64] | None] = {}
        for run in phrases:
            if run not in scored:
                scored[run] = self._phrase_score(run, candidates, norm, total)
            score = scored[run]
            if score is not None:
                scores += score
        return scores

    def _phrase_score(
        self,
        run: tuple[int, int],
        candidates: Ids,
        norm: npt.NDArray[np.float64],
        total: int,
    ) -> npt.NDArray[np.float64] | None:
        docs, freqs = self._postings(run)
        hits = len(docs)
        if not hits:
            return None
        idf = max(math.log((total - hits + 0.5) / (hits + 0.5)), 1e-6)
        at = np.searchsorted(docs, candidates)
        at[at >= hits] = 0
        counts = np.where(docs[at] == candidates, freqs[at], 0.0)
        score: npt.NDArray[np.float64] = idf * (counts * (K1 + 1)) / (counts + norm)
        return score


def _first_common(groups: list[Ids], count: int) -> Ids:
    """The first `count` documents (by position) in every one of `groups`."""
    groups = sorted(groups, key=len)
    rarest, others = groups[0], groups[1:]
    found: list[Ids] = []
    have = 0
    for begin in range(0, len(rarest), CHUNK):
        chunk = rarest[begin : begin + CHUNK]
        for other in others:
            if not len(chunk):
                break
            at = np.searchsorted(other, chunk)
            at[at >= len(other)] = 0
            chunk = chunk[other[at] == chunk] if len(other) else chunk[:0]
        found.append(chunk)
        have += len(chunk)
        if have >= count:
            break
    if not found:
        return rarest[:0]
    return np.concatenate(found)[:count]


def _frozen(builder: IndexBuilder, base: SearchIndex | None) -> SearchIndex:
    """Arrays of `base`'s postings (if any) followed, per term, by the builder's."""
    old_terms = base._terms if base is not None else []
    terms = sorted(set(old_terms) | builder.postings.keys())
    where = {term: at for at, term in enumerate(old_terms)}
    docs: list[npt.NDArray[np.int32]] = []
    freqs: list[npt.NDArray[np.float32]] = []
    starts = np.zeros(len(terms) + 1, dtype=np.int64)
    for at, term in enumerate(terms):
        size = 0
        old = where.get(term)
        if base is not None and old is not None:
            begin, end = int(base._starts[old]), int(base._starts[old + 1])
            docs.append(base._docs[begin:end])
            freqs.append(base._freqs[begin:end])
            size += end - begin
        new = builder.postings.get(term)
        if new is not None:
            docs.append(np.frombuffer(new[0], dtype=np.int32))
            freqs.append(np.frombuffer(new[1], dtype=np.float32))
            size += len(new[0])
        starts[at + 1] = starts[at] + size
    new_ids = np.frombuffer(builder.ids, dtype=np.int64)
    new_lengths = np.frombuffer(builder.lengths, dtype=np.float32)
    return SearchIndex(
        terms,
        starts,
        np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32),
        np.concatenate(freqs) if freqs else np.zeros(0, dtype=np.float32),
        np.concatenate([base._ids, new_ids]) if base is not None else new_ids.copy(),
        np.concatenate([base._lengths, new_lengths]) if base is not None else new_lengths.copy(),
    )
