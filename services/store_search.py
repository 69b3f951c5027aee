"""store's search: which products match a query, through the database's full-text index (FTS5
on SQLite, a GIN-indexed tsvector on PostgreSQL) — the reference the in-memory index
(core/search_index.py) ranks like, and what answers while it loads — and the reads that keep that
index current.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import plan_with_values
from core.errors import ValidationError
from core.search_index import CANDIDATES
from core.text import MAX_QUERY_CHARS, query_terms
from models.store import ProductCard, SearchPage
from services.store import (
    CARDS_FROM,
    CARDS_JOINS,
    CARDS_SELECT,
    MAX_PAGE_SIZE,
    cards,
    cards_of_rows,
)

SEARCH_DEPTH = CANDIDATES  # deepest search result a shopper can page to


async def search_words(
    *, conn: AsyncConnection, after: int = 0, limit: int = 10_000
) -> list[tuple[int, str, str, int]]:
    """(id, word, stem, products) of the vocabulary's words added after id `after`, oldest first."""
    rows = await conn.execute(
        text(
            "SELECT id, word, stem, products FROM store_search_word WHERE id > :after"
            " ORDER BY id LIMIT :limit"
        ),
        {"after": after, "limit": limit},
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


_NEWEST = "SELECT COALESCE(MAX(id), 0) FROM store_product"
_CARDS_SQLITE = f"{CARDS_FROM} WHERE p.id IN (SELECT value FROM json_each(?)) ORDER BY p.id, s.id"  # noqa: S608


async def newest_product(*, conn: AsyncConnection) -> int:
    """The id of the newest product (0 if none): products are only ever added, so a query's
    matches can have changed only if this has."""
    return int(await conn.scalar(text(_NEWEST)) or 0)


async def cards_and_newest(
    *, conn: AsyncConnection, product_ids: Sequence[int]
) -> tuple[list[ProductCard], int]:
    """The cards of `product_ids` and the newest product's id, read in one visit: whether the
    search index a page came from still holds every product is learnt with its cards."""
    return await cards(conn=conn, product_ids=product_ids), await newest_product(conn=conn)


class _Driver(Protocol):
    """What is used of an asyncpg connection."""

    async def fetch(self, query: str, *args: object) -> list[Any]: ...

    async def fetchval(self, query: str, *args: object) -> Any: ...


# The newest product's id rides on every card row: one round trip for both.
_CARDS_ASYNCPG = (
    f"{CARDS_SELECT}, ({_NEWEST}){CARDS_JOINS} WHERE p.id = ANY($1::int[]) ORDER BY p.id, s.id"
)


async def cards_and_newest_asyncpg(
    driver: _Driver, *, product_ids: Sequence[int]
) -> tuple[list[ProductCard], int]:
    """`cards_and_newest` on an asyncpg connection (core/pg_reads.py): one statement."""
    rows = await driver.fetch(_CARDS_ASYNCPG, list(product_ids)) if product_ids else []
    newest = rows[0][-1] if rows else await driver.fetchval(_NEWEST)
    return cards_of_rows(rows, product_ids), int(newest)


def cards_and_newest_sqlite(
    db: sqlite3.Connection, *, product_ids: Sequence[int]
) -> tuple[list[ProductCard], int]:
    """`cards_and_newest` on a stdlib sqlite3 connection (core/sqlite_reads.py)."""
    rows = db.execute(_CARDS_SQLITE, (json.dumps(list(product_ids)),)) if product_ids else ()
    found = cards_of_rows(rows, product_ids)
    return found, int(db.execute(_NEWEST).fetchone()[0])


async def search_documents(
    *, conn: AsyncConnection, after: int, limit: int
) -> list[tuple[int, str, str]]:
    """The next `limit` products after id `after`, in id order, as the search index takes them:
    (id, name, description)."""
    rows = await conn.execute(
        text(
            "SELECT id, name, description FROM store_product WHERE id > :after"
            " ORDER BY id LIMIT :limit"
        ),
        {"after": after, "limit": limit},
    )
    return [(row[0], row[1], row[2]) for row in rows]


def search_terms(query: str, page: int, page_size: int) -> list[tuple[str, ...]]:
    """What `query` looks for (core.text.query_terms), or ValidationError with the reason: empty,
    too long, no word in it, or a page past SEARCH_DEPTH."""
    if not query.strip():
        raise ValidationError("Введите, что вы ищете", fields={"q": "пустой запрос"})
    if len(query) > MAX_QUERY_CHARS:
        raise ValidationError(
            f"Запрос длиннее {MAX_QUERY_CHARS} символов", fields={"q": "слишком длинный запрос"}
        )
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"Страница от 1, размер страницы от 1 до {MAX_PAGE_SIZE}")
    if page * page_size > SEARCH_DEPTH:
        raise ValidationError(f"Можно просмотреть только первые {SEARCH_DEPTH} результатов")
    terms = query_terms(query)
    if not terms:
        raise ValidationError(
            "В запросе нет ни одного слова", fields={"q": "используйте буквы или цифры"}
        )
    return terms


# Each word matches as a whole word or as a prefix; a whole-word match scores both, so "чай"
# ranks tea above kettles while still finding kettles as the shopper types.
# Terms are [0-9a-zа-я]+ only (core.text), so quoting them cannot break either syntax.
def _fts5_match(terms: list[tuple[str, ...]]) -> str:
    return " AND ".join(
        "(" + " OR ".join(f'"{t}" OR "{t}"*' for t in group) + ")" for group in terms
    )


def _tsquery(terms: list[tuple[str, ...]]) -> str:
    return " & ".join("(" + " | ".join(f"{t}:*" for t in group) + ")" for group in terms)


def _ts_whole_words(terms: list[tuple[str, ...]]) -> str:
    return " | ".join(t for group in terms for t in group)


# The first CANDIDATES matches (FTS5 hands them out in rowid order), ranked: one statement.
_SQLITE_SEARCH = text(
    "SELECT rowid FROM (SELECT rowid, bm25(store_product_search, 10.0, 1.0) AS score"
    "   FROM store_product_search WHERE store_product_search MATCH :match LIMIT :cap)"
    " ORDER BY score, rowid LIMIT :limit OFFSET :offset"
)
_POSTGRES_SEARCH = text(
    "WITH q AS (SELECT to_tsquery('simple', :tsq) AS query,"
    "                  to_tsquery('simple', :whole) AS whole),"
    " candidates AS ("
    "   SELECT product_id, document FROM store_product_search, q"
    "   WHERE document @@ q.query LIMIT :cap)"
    " SELECT product_id FROM candidates, q"
    " ORDER BY ts_rank(document, q.query) + ts_rank(document, q.whole) DESC, product_id"
    " LIMIT :limit OFFSET :offset"
)


async def search_ids(
    *, conn: AsyncConnection, query: str, page: int = 1, page_size: int = 20
) -> tuple[list[int], bool]:
    """Ids of the products matching `query`, best first, and whether more pages follow.

    Ranking is exact among a bounded candidate set, so a common word ("чайник") costs about the
    same at 100 000 products as at a million: on SQLite the first CANDIDATES matches in id order
    (FTS5 hands matches out by id and stops there); on PostgreSQL the first CANDIDATES of the at
    most ~20 000 rows a GIN scan returns (`gin_fuzzy_search_limit`, core/db.py). Rare queries are
    ranked exactly. Pages reach as deep as the candidates (SEARCH_DEPTH): past them a ranking
    would have to take in more candidates and would reorder the pages before.
    """
    terms = search_terms(query, page, page_size)
    window = {"limit": page_size + 1, "offset": (page - 1) * page_size}
    if conn.dialect.name == "sqlite":
        params = {"match": _fts5_match(terms), "cap": CANDIDATES}
        rows = await conn.execute(_SQLITE_SEARCH, params | window)
    else:
        params = {"tsq": _tsquery(terms), "whole": _ts_whole_words(terms), "cap": CANDIDATES}
        await plan_with_values(conn)
        rows = await conn.execute(_POSTGRES_SEARCH, params | window)
    ids = [row[0] for row in rows]
    return ids[:page_size], len(ids) > page_size


async def search(
    *, conn: AsyncConnection, query: str, page: int = 1, page_size: int = 20
) -> SearchPage:
    """A page of product cards matching `query`, best first."""
    ids, has_more = await search_ids(conn=conn, query=query, page=page, page_size=page_size)
    return SearchPage(
        query=query,
        page=page,
        page_size=page_size,
        has_more=has_more,
        items=await cards(conn=conn, product_ids=ids),
    )
