"""store: stores, products, stock per store, product cards; the search index's rows are written
with the products (services/store_search.py reads them).

Catalogue reads go through a plain SQLAlchemy Core connection with hand-written SQL: a results
page is one or two indexed queries, and ORM objects would only add cost on the hottest path.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotFoundError
from core.money import to_roubles
from core.text import stem, stems, words
from models.store import (
    Category,
    Product,
    ProductAvailability,
    ProductCard,
    ProductPlace,
    Stock,
    Store,
    StorePublic,
)

MAX_PAGE_SIZE = 60
MAX_RESULTS = 1000  # deepest product a shopper can page to in the catalogue


def image_url(product_id: int) -> str:
    return f"/store/images/{product_id}.svg"


# --- writes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewProduct:
    name: str
    description: str
    price_kopecks: int
    category_id: int
    stock: dict[int, int]  # store id → units


async def add_store(*, session: AsyncSession, name: str, address: str) -> Store:
    """A new store (shop or warehouse)."""
    store = Store(name=name, address=address)
    session.add(store)
    await session.flush()
    return store


async def add_category(*, session: AsyncSession, name: str, slug: str) -> Category:
    """A new product category."""
    category = Category(name=name, slug=slug)
    session.add(category)
    await session.flush()
    return category


async def add_products(*, session: AsyncSession, products: Sequence[NewProduct]) -> list[int]:
    """Insert products with their stock and search index rows; returns their ids in order.

    Core bulk inserts, not ORM objects: the seed loads a million products through here.
    """
    if not products:
        return []
    conn = await session.connection()
    product_table = Product.__table__  # type: ignore[attr-defined]
    result = await conn.execute(
        insert(product_table).returning(product_table.c.id, sort_by_parameter_order=True),
        [
            {
                "name": p.name,
                "description": p.description,
                "price_kopecks": p.price_kopecks,
                "category_id": p.category_id,
            }
            for p in products
        ],
    )
    ids = [row[0] for row in result]
    stock = [
        {"product_id": pid, "store_id": store_id, "quantity": units, "reserved": 0}
        for pid, product in zip(ids, products, strict=True)
        for store_id, units in product.stock.items()
    ]
    if stock:
        await conn.execute(insert(Stock.__table__), stock)  # type: ignore[attr-defined]
    await index_products(
        conn=conn,
        documents=[(pid, p.name, p.description) for pid, p in zip(ids, products, strict=True)],
    )
    return ids


async def index_products(
    *, conn: AsyncConnection, documents: Sequence[tuple[int, str, str]]
) -> None:
    """Write the stemmed name and description of each product into the search index."""
    if not documents:
        return
    params = [
        {"id": pid, "name": stems(name), "body": stems(body)} for pid, name, body in documents
    ]
    if conn.dialect.name == "sqlite":
        statement = (
            "INSERT INTO store_product_search(rowid, name, description) VALUES (:id, :name, :body)"
        )
    else:
        statement = (
            "INSERT INTO store_product_search(product_id, document) VALUES (:id,"
            " setweight(to_tsvector('simple', :name), 'A')"
            " || setweight(to_tsvector('simple', :body), 'B'))"
        )
    await conn.execute(text(statement), params)
    await _count_words(conn, documents)


MAX_WORD = 64  # the vocabulary's column; longer "words" are codes nobody types


async def _count_words(conn: AsyncConnection, documents: Sequence[tuple[int, str, str]]) -> None:
    """Add the documents' words to the vocabulary spelling correction draws on, each counted
    once per product."""
    counts = Counter(
        word
        for _, name, body in documents
        for word in set(words(name)) | set(words(body))
        if 3 <= len(word) <= MAX_WORD and not word.isdigit()
    )
    if counts:
        await conn.execute(
            text(
                "INSERT INTO store_search_word(word, stem, products) VALUES (:word, :stem, :n)"
                " ON CONFLICT (word) DO UPDATE"
                " SET products = store_search_word.products + excluded.products"
            ),
            [{"word": w, "stem": stem(w), "n": n} for w, n in sorted(counts.items())],
        )


async def product_names(*, conn: AsyncConnection, product_ids: Sequence[int]) -> dict[int, str]:
    """The names of the known products of `product_ids`."""
    if not product_ids:
        return {}
    rows = await conn.execute(
        text("SELECT id, name FROM store_product WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": list(product_ids)},
    )
    return {row[0]: row[1] for row in rows}


# --- reads ----------------------------------------------------------------------------------


async def get_product(*, session: AsyncSession, product_id: int) -> Product:
    """The product, or NotFoundError."""
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFoundError("Товар не найден")
    return product


async def _places(
    conn: AsyncConnection, product_ids: Sequence[int]
) -> dict[int, list[ProductPlace]]:
    rows = await conn.execute(
        text(
            "SELECT st.product_id, s.id, s.name, s.address, st.quantity - st.reserved"
            " FROM store_stock st JOIN store_store s ON s.id = st.store_id"
            " WHERE st.product_id IN :ids ORDER BY s.id"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": list(product_ids)},
    )
    places: dict[int, list[ProductPlace]] = defaultdict(list)
    stores: dict[int, StorePublic] = {}  # a handful of stores: build each once per page
    for product_id, store_id, name, address, available in rows:
        if store_id not in stores:
            stores[store_id] = StorePublic(id=store_id, name=name, address=address)
        places[product_id].append(ProductPlace(store=stores[store_id], quantity=available))
    return places


async def get_availability(*, conn: AsyncConnection, product_id: int) -> ProductAvailability:
    """Units of the product available (not held by checkouts) in each store that stocks it."""
    exists = await conn.scalar(
        text("SELECT 1 FROM store_product WHERE id = :id"), {"id": product_id}
    )
    if exists is None:
        raise NotFoundError("Товар не найден")
    places = await _places(conn, [product_id])
    return ProductAvailability(product_id=product_id, product_places=places.get(product_id, []))


@dataclass(frozen=True)
class ProductFacts:
    id: int
    name: str
    price_kopecks: int
    available: int  # across all stores, net of holds


async def product_facts(
    *, conn: AsyncConnection, product_ids: Sequence[int]
) -> dict[int, ProductFacts]:
    """Name, price and units available everywhere, for each known product of `product_ids`."""
    if not product_ids:
        return {}
    rows = await conn.execute(
        text(
            "SELECT p.id, p.name, p.price_kopecks,"
            " COALESCE((SELECT SUM(st.quantity - st.reserved) FROM store_stock st"
            "           WHERE st.product_id = p.id), 0)"
            " FROM store_product p WHERE p.id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": list(set(product_ids))},
    )
    return {row[0]: ProductFacts(row[0], row[1], row[2], int(row[3])) for row in rows}


async def product_label(*, conn: AsyncConnection, product_id: int) -> tuple[str, str]:
    """The product's name and its category's slug, or NotFoundError."""
    row = (
        await conn.execute(
            text(
                "SELECT p.name, c.slug FROM store_product p"
                " JOIN store_category c ON c.id = p.category_id WHERE p.id = :id"
            ),
            {"id": product_id},
        )
    ).first()
    if row is None:
        raise NotFoundError("Товар не найден")
    return row[0], row[1]


CARDS_SELECT = (
    "SELECT p.id, p.name, p.price_kopecks, c.name, s.id, s.name, s.address,"
    " st.quantity - st.reserved"
)
CARDS_JOINS = (
    " FROM store_product p JOIN store_category c ON c.id = p.category_id"
    " LEFT JOIN store_stock st ON st.product_id = p.id"
    " LEFT JOIN store_store s ON s.id = st.store_id"
)
# + the products' condition and " ORDER BY p.id, s.id": a row per product and store
CARDS_FROM = CARDS_SELECT + CARDS_JOINS
_CARDS = text(CARDS_FROM + " WHERE p.id IN :ids ORDER BY p.id, s.id").bindparams(
    bindparam("ids", expanding=True)
)


async def cards(*, conn: AsyncConnection, product_ids: Sequence[int]) -> list[ProductCard]:
    """Product cards (name, price, image, availability per store) in the order of `product_ids`:
    one query, a row per product and store."""
    if not product_ids:
        return []
    rows = await conn.execute(_CARDS, {"ids": list(product_ids)})
    return cards_of_rows(rows, product_ids)


def cards_of_rows(rows: Iterable[Sequence[Any]], product_ids: Sequence[int]) -> list[ProductCard]:
    """The cards of CARDS_FROM's rows (more columns after its may follow), in the order of
    `product_ids`."""
    found: dict[int, ProductCard] = {}
    stores: dict[int, StorePublic] = {}  # a handful of stores: build each once per page
    for row in rows:  # by position: the hottest loop of search (80 rows a page)
        pid = row[0]
        card = found.get(pid)
        if card is None:
            card = found[pid] = ProductCard(
                id=pid,
                name=row[1],
                price=to_roubles(row[2]),
                image_url=image_url(pid),
                category=row[3],
                product_places=[],
            )
        store_id = row[4]
        if store_id is not None:
            place = stores.get(store_id)
            if place is None:
                place = stores[store_id] = StorePublic(id=store_id, name=row[5], address=row[6])
            card.product_places.append(ProductPlace(store=place, quantity=row[7]))
    return [found[pid] for pid in product_ids if pid in found]
