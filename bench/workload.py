"""The search benchmark's workload: a long tail of distinct queries drawn with Zipf popularity,
and a client-side estimate of how many of them the API's page cache answered.

Queries come from the sample catalogue's vocabulary (`workers/catalog_data.py`): product kinds,
brands, features and colours, as whole words, word forms, prefixes typed while typing, two-word
combinations, typos and things the shop does not sell. They are ranked by a jittered popularity
of their class and the r-th gets a share ∝ 1/r^s of the requests, so popular queries repeat and
the tail rarely does. Everything is decided by a fixed seed: the same list on every run.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.cache import TTLCache
from core.text import normalize, query_terms
from workers.catalog_data import CATEGORIES, COLOURS

# How popular each class of query is: a class's k-th query (in a shuffled order) scores
# POPULARITY / k; the scores only decide the overall ranks, and rank r gets ∝ 1/r^s of requests.
POPULARITY: dict[str, float] = {
    "word": 1.0,  # a kind's head noun: «чайник», «пылесос»
    "name": 0.5,  # a kind's whole name, in either order: «чайник электрический»
    "form": 0.4,  # another form of a kind's word: «чайники», «кастрюлю», «электрические»
    "brand": 0.35,  # «bosch», «нева металл посуда»
    "prefix": 0.25,  # typed while typing: «чайн», «пылес», «чайник bo»
    "pair": 0.12,  # kind and brand of one category: «чайник bosch», «tefal сковорода»
    "feature": 0.06,  # a feature, colour or number with or without a kind: «чайник белый»
    "miss": 0.06,  # what the shop does not sell, or a brand of another category: «телевизор»
    "typo": 0.04,  # a slip of the finger: «чайнек», «пылисос»
}
# Kept whole however many queries are asked for; the rest fill the count by a uniform sample.
WHOLE_CLASSES = ("word", "name", "form", "brand")

# Things shoppers look for that this catalogue does not carry.
NOT_SOLD = (
    "телевизор",
    "холодильник",
    "ноутбук",
    "монитор",
    "принтер",
    "кроссовки",
    "куртка",
    "шапка",
    "самокат",
    "коляска",
    "матрас",
    "подушка",
    "одеяло",
    "кресло",
    "диван",
    "стиральная машина",
    "посудомоечная машина",
    "кондиционер",
    "роутер",
    "клавиатура",
    "мышь",
    "видеокарта",
    "шуруповерт",
    "перфоратор",
    "болгарка",
    "удочка",
    "лыжи",
    "коньки",
    "сапоги",
    "зонт",
    "корм для кошек",
    "подгузники",
    "шампунь",
    "духи",
    "помада",
    "iphone",
    "macbook",
    "playstation",
    "airpods",
    "nike",
    "adidas",
    "ikea",
    "гречка",
    "молоко",
    "сыр",
    "вино",
)
_HUSHING = set("гкхжшчщ")
_SOFT_ADJECTIVE = ("ний",)  # «синий» → «синие», «синяя»
_SWAPS = {"а": "о", "о": "а", "е": "и", "и": "е", "я": "е", "ы": "и", "s": "z", "c": "k"}


@dataclass(frozen=True)
class Workload:
    """Distinct queries in popularity order, each with its share of the requests."""

    queries: tuple[str, ...]
    classes: tuple[str, ...]
    weights: tuple[float, ...]  # sum to 1; weights[0] is the most popular query's share
    seed: int
    zipf: float

    def share(self, top: int) -> float:
        return sum(self.weights[:top])

    def class_shares(self) -> dict[str, float]:
        shares: dict[str, float] = {}
        for cls, weight in zip(self.classes, self.weights, strict=True):
            shares[cls] = shares.get(cls, 0.0) + weight
        return dict(sorted(shares.items(), key=lambda item: item[1], reverse=True))

    def summary(self) -> str:
        tops = ", ".join(
            f"top {n:,} {self.share(n):.0%}" for n in (1, 10, 100, 1000) if n < len(self.queries)
        )
        classes = ", ".join(f"{cls} {share:.0%}" for cls, share in self.class_shares().items())
        return (
            f"{len(self.queries):,} distinct queries (seed {self.seed}), Zipf s={self.zipf:g}: "
            f"{tops} of requests; by class: {classes}"
        )


def cache_key(query: str, page: int, page_size: int) -> tuple[str, int, int]:
    """The API's page-cache key for a search (api/store.py `cached_search`)."""
    return normalize(" ".join(query.split())), page, page_size


# --- the vocabulary -------------------------------------------------------------------------------


def _lower_words(text: str) -> list[str]:
    return [word for word in text.lower().replace(",", " ").split() if word]


def word_forms(word: str) -> list[str]:
    """A few other forms of a Russian noun or adjective (plural, cases); others have none.
    Rough rules, not a grammar: shoppers' own forms are not always right either."""
    if not word.isalpha() or not "а" <= word[0] <= "я" or len(word) < 4:
        return []
    stem, last = word[:-1], word[-1]
    if word.endswith(("ый", "ий", "ой")):  # adjectives
        base = word[:-2]
        soft = word.endswith(_SOFT_ADJECTIVE)
        plural = "ие" if soft or base[-1] in _HUSHING else "ые"
        feminine = "яя" if soft else "ая"
        return [base + plural, base + feminine, base + ("ее" if soft else "ое"), base + "ого"]
    if word.endswith(("ая", "яя")):
        base = word[:-2]
        return [base + ("ие" if base[-1] in _HUSHING else "ые"), base + "ую"]
    if last == "а":
        return [stem + ("и" if stem[-1] in _HUSHING else "ы"), stem + "у", stem + "ой"]
    if last == "я":
        return [stem + "и", stem + "ю", stem + "ей"]
    if last == "ь":
        return [stem + "и", stem + "я", stem + "ей"]
    if last in "ие":  # «наушники», «часы», «весы»: already plural; «кофе»: does not change
        return [stem + "ов"] if last == "и" else []
    if last == "ы":
        return [stem + "ов", stem + "ам"] if len(word) > 5 else []
    if last in "бвгджзклмнпрстфхцчшщ":
        plural = word + ("и" if last in _HUSHING else "ы")
        return [plural, word + "а", word + "ов" if last not in "жшчщ" else word + "ей"]
    return []


def prefixes(word: str) -> list[str]:
    """What the search line holds while `word` is typed: its first 3 to 6 letters."""
    return [word[:n] for n in range(3, min(6, len(word) - 1) + 1)]


def typos(word: str, rng: random.Random) -> list[str]:
    """Two slips of the finger in `word`: a letter dropped, doubled, swapped or misheard."""
    if len(word) < 5:
        return []
    found = []
    for _ in range(2):
        at = rng.randrange(1, len(word) - 1)
        slip = rng.choice(("drop", "double", "swap", "vowel"))
        if slip == "drop":
            found.append(word[:at] + word[at + 1 :])
        elif slip == "double":
            found.append(word[:at] + word[at] + word[at:])
        elif slip == "swap":
            found.append(word[:at] + word[at + 1] + word[at] + word[at + 2 :])
        else:
            vowels = [i for i, ch in enumerate(word) if ch in _SWAPS and i > 0]
            if vowels:
                i = rng.choice(vowels)
                found.append(word[:i] + _SWAPS[word[i]] + word[i + 1 :])
    return [typo for typo in found if typo != word]


def candidates(rng: random.Random) -> dict[str, list[str]]:
    """Every query the workload may use, by class (duplicates across classes included)."""
    out: dict[str, list[str]] = {cls: [] for cls in POPULARITY}
    all_brands = sorted({b.lower() for c in CATEGORIES for b in c.brands})
    colours = list(COLOURS)
    for category in CATEGORIES:
        brands = [b.lower() for b in category.brands]
        foreign = [b for b in all_brands if b not in brands]
        out["brand"] += brands
        for brand in brands:
            out["prefix"] += prefixes(brand.split()[0])
            out["typo"] += typos(brand.split()[0], rng)
        for kind in category.kinds:
            name = _lower_words(kind.name)
            head = name[0]
            out["word"].append(head)
            out["name"].append(" ".join(name))
            if len(name) == 2:
                out["name"].append(f"{name[1]} {head}")  # «электрический чайник»
                out["feature"].append(name[1])  # «беспроводные» alone
            for word in name:
                if word is head or word.endswith(("ый", "ий", "ой", "ая", "яя")):
                    out["form"] += word_forms(word)  # not «йоги» of «коврик для йоги»
                out["prefix"] += prefixes(word)
                out["typo"] += typos(word, rng)
            for form in word_forms(head)[:1]:  # «чайники электрические»
                out["form"].append(" ".join([form, *name[1:]]))
            for brand in brands:
                out["pair"] += [f"{head} {brand}", f"{brand} {head}", f"{' '.join(name)} {brand}"]
                out["prefix"] += [f"{head} {brand[:n]}" for n in (2, 3) if len(brand) > n + 1]
            for brand in rng.sample(foreign, 4):  # «пылесос lego»: no such product
                out["miss"].append(f"{head} {brand}")
            for feature in kind.features:
                phrase = " ".join(_lower_words(feature))
                out["feature"].append(phrase)
                keywords = [w for w in _lower_words(feature) if len(w) >= 5 and w.isalpha()]
                out["feature"] += [f"{head} {word}" for word in keywords]
                out["feature"] += [f"{head} {w}" for w in _lower_words(feature) if w.isdigit()]
            for colour in colours:
                out["feature"] += [f"{head} {colour}", f"{colour} {head}"]
    for colour in colours:
        out["feature"].append(colour)
        out["form"] += word_forms(colour)[:2]
    for thing in NOT_SOLD:
        out["miss"].append(thing)
        words = thing.split()
        out["miss"] += [" ".join([form, *words[1:]]) for form in word_forms(words[0])[:2]]
        out["miss"] += [f"{thing} {brand}" for brand in rng.sample(all_brands, 2)]
    return out


def build(count: int = 4000, *, zipf: float = 1.0, seed: int = 7, page_size: int = 20) -> Workload:
    """`count` distinct queries (fewer when the vocabulary has fewer), most popular first."""
    rng = random.Random(seed)
    by_class = candidates(rng)
    seen: set[tuple[str, int, int]] = set()
    unique: dict[str, list[str]] = {}
    # A query belongs to its most popular class («чайник» is a word, not a prefix of «чайники»).
    for cls in sorted(POPULARITY, key=POPULARITY.__getitem__, reverse=True):
        unique[cls] = []
        for query in by_class[cls]:
            key = cache_key(query, 1, page_size)
            if key not in seen and query_terms(query):  # a query the API accepts
                seen.add(key)
                unique[cls].append(query)
    chosen = {cls: list(unique[cls]) for cls in WHOLE_CLASSES}
    rest = [(cls, q) for cls in unique if cls not in WHOLE_CLASSES for q in unique[cls]]
    budget = max(0, count - sum(map(len, chosen.values())))
    for cls, query in rng.sample(rest, min(len(rest), budget)):
        chosen.setdefault(cls, []).append(query)
    # Within a class, a shuffled order; across classes, its k-th query (from 1) scores
    # POPULARITY / k, so popular classes fill the head and big ones the tail.
    scored = []
    for cls, queries in chosen.items():
        rng.shuffle(queries)
        scored += [(POPULARITY[cls] / k, cls, q) for k, q in enumerate(queries, start=1)]
    scored = sorted(scored, key=lambda item: item[0], reverse=True)[:count]
    raw = [1 / rank**zipf for rank in range(1, len(scored) + 1)]
    total = sum(raw)
    return Workload(
        queries=tuple(q for _, _, q in scored),
        classes=tuple(cls for _, cls, _ in scored),
        weights=tuple(w / total for w in raw),
        seed=seed,
        zipf=zipf,
    )


# --- how many requests the API's page cache answered ---------------------------------------------


@dataclass(frozen=True)
class CacheEstimate:
    """The page cache replayed over the requests as the clients saw them (see `estimate_cache`)."""

    ttl: float
    max_entries: int
    requests: int  # in the measured window
    hits: int
    distinct: int  # distinct cache keys asked for in the measured window
    # Misses while a miss of the same key was still in flight: the database work a single
    # flight per key (waiting for the first miss's page) would have saved.
    duplicate_misses: int
    peak_entries: int  # the most pages cached at once (evictions start at max_entries)
    hit_p50_ms: float | None  # client-seen latency of the requests estimated as hits / misses
    hit_p99_ms: float | None
    miss_p50_ms: float | None
    miss_p99_ms: float | None

    @property
    def hit_rate(self) -> float:
        return self.hits / self.requests if self.requests else 0.0


class _Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _percentile(ordered: Sequence[float], share: float) -> float | None:
    # Nearest rank, as bench.load.summarize: the smallest latency `share` of them did not exceed.
    if not ordered:
        return None
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000


def estimate_cache(
    events: Iterable[tuple[float, float | None, int]],
    keys: Sequence[object],
    *,
    ttl: float,
    max_entries: int,
    measured_from: float,
) -> CacheEstimate:
    """Replay `events` — (sent, answered or None when it failed, query index), warm-up included —
    through `core.cache.TTLCache` in time order: a request finds its page when an earlier miss of
    the same key was answered within `ttl` and not evicted; a miss stores its page when answered.
    Client-side times stand in for the server's (they differ by the ~0.1 ms of the loopback)."""
    clock = _Clock()
    cache: TTLCache[bool] = TTLCache(ttl=ttl, max_entries=max_entries, clock=clock)
    # (time, 0 = store before lookups at the same instant, sequence, key, request or None)
    timeline: list[tuple[float, int, int, object, int]] = []
    requests = list(events)
    for n, (sent, _answered, index) in enumerate(requests):
        timeline.append((sent, 1, n, keys[index], n))
    heapq.heapify(timeline)
    hits: list[float | None] = []
    misses: list[float | None] = []
    distinct: set[object] = set()
    in_flight: Counter[object] = Counter()
    duplicates = peak = 0
    while timeline:
        at, order, n, key, request = heapq.heappop(timeline)
        clock.now = at
        if order == 0:
            cache.put(key, True)
            in_flight[key] -= 1
            peak = max(peak, len(cache))
            continue
        sent, answered, _ = requests[request]
        hit = cache.get(key) is not None
        measured = sent >= measured_from
        if not hit:
            duplicates += measured and in_flight[key] > 0
            if answered is not None:
                in_flight[key] += 1
                heapq.heappush(timeline, (answered, 0, n, key, request))
        if measured:
            distinct.add(key)
            latency = None if answered is None else answered - sent
            (hits if hit else misses).append(latency)
    hit_times = sorted(t for t in hits if t is not None)
    miss_times = sorted(t for t in misses if t is not None)
    return CacheEstimate(
        ttl=ttl,
        max_entries=max_entries,
        requests=len(hits) + len(misses),
        hits=len(hits),
        distinct=len(distinct),
        duplicate_misses=duplicates,
        peak_entries=peak,
        hit_p50_ms=_percentile(hit_times, 0.50),
        hit_p99_ms=_percentile(hit_times, 0.99),
        miss_p50_ms=_percentile(miss_times, 0.50),
        miss_p99_ms=_percentile(miss_times, 0.99),
    )
