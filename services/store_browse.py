"""store, part three: browsing the catalogue — categories with their product counts, a category's
products sorted and filtered page by page, and the goods the home page shows.

Reads go through a plain AsyncConnection, as search does, and every query is bounded whatever
the size of the catalogue:
- a category's count stops at COUNT_CAP = MAX_RESULTS (an index range of at most that many
  entries);
- a category page is read in the order of an index, forwards or backwards
  (`ix_store_product_category_sold`, `…_category_price`, the primary key for the newest): no
  sort, and never past the MAX_RESULTS-th product, as search does. Filters are checked on the
  products read (a price range sorted by price is a range of that index; «в наличии в
  магазине» is a primary-key lookup in store_stock), so a filter few products pass reads
  further, at worst the category's products;
- the bestsellers are the head of `ix_store_product_sold` (of `…_category_sold` for one
  category).
Popularity is `store_product.sold`, net units sold (counted by services/stock.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Table, exists, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import plan_with_values
from core.errors import NotFoundError, ValidationError
from core.money import to_kopecks, to_roubles
from models.store import (
    CategoryPage,
    CategoryRef,
    CategoryShelf,
    CategorySummary,
    Product,
    ProductCard,
    Showcase,
    Stock,
    StorePublic,
)
from services.store import MAX_PAGE_SIZE, MAX_RESULTS, cards

PAGE_SIZE = 24
# «более 1 000 товаров»: a count reads no further than a shopper can page (MAX_RESULTS).
COUNT_CAP = MAX_RESULTS
MAX_CATEGORIES = 200
MAX_STORES = 100
MAX_PRICE_ROUBLES = 10_000_000
MAX_SLUG_CHARS = 40  # store_category.slug

PRODUCT: Table = Product.__table__  # type: ignore[attr-defined]
STOCK: Table = Stock.__table__  # type: ignore[attr-defined]
P, ST = PRODUCT.c, STOCK.c

# Every order ends in the id, so pages never overlap; each is the order of an index read forwards
# or backwards (equally popular: the newer first).
SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "popular": (P.sold.desc(), P.id.desc()),
    "price_asc": (P.price_kopecks, P.id),
    "price_desc": (P.price_kopecks.desc(), P.id.desc()),
    "new": (P.id.desc(),),
}
DEFAULT_SORT = "popular"


@dataclass(frozen=True)
class Filters:
    """A category page's choices, checked: prices in kopecks, None when not asked for."""

    sort: str = DEFAULT_SORT
    price_from: int | None = None
    price_to: int | None = None
    store_id: int | None = None
    page: int = 1
    page_size: int = PAGE_SIZE


# --- categories -----------------------------------------------------------------------------

_CATEGORIES = text(
    "SELECT c.id, c.name, c.slug,"
    " (SELECT COUNT(*) FROM (SELECT 1 FROM store_product p WHERE p.category_id = c.id"
    "                        LIMIT :cap) AS counted)"
    " FROM store_category c ORDER BY c.name LIMIT :limit"
)


async def categories(*, conn: AsyncConnection) -> list[CategorySummary]:
    """Every category by name (at most MAX_CATEGORIES), with its products counted up to
    COUNT_CAP."""
    rows = await conn.execute(_CATEGORIES, {"cap": COUNT_CAP + 1, "limit": MAX_CATEGORIES})
    return [
        CategorySummary(
            id=cid,
            name=name,
            slug=slug,
            product_count=min(count, COUNT_CAP),
            count_capped=count > COUNT_CAP,
        )
        for cid, name, slug, count in rows
    ]


async def category(*, conn: AsyncConnection, slug: str) -> CategoryRef:
    """The category with this slug, or NotFoundError."""
    row = None
    if len(slug) <= MAX_SLUG_CHARS:
        row = (
            await conn.execute(
                text("SELECT id, name, slug FROM store_category WHERE slug = :slug"),
                {"slug": slug},
            )
        ).first()
    if row is None:
        raise NotFoundError("Категория не найдена")
    return CategoryRef(id=row[0], name=row[1], slug=row[2])


async def product_category(*, conn: AsyncConnection, product_id: int) -> CategoryRef:
    """The category of the product (for its breadcrumbs), or NotFoundError."""
    row = (
        await conn.execute(
            text(
                "SELECT c.id, c.name, c.slug FROM store_product p"
                " JOIN store_category c ON c.id = p.category_id WHERE p.id = :id"
            ),
            {"id": product_id},
        )
    ).first()
    if row is None:
        raise NotFoundError("Товар не найден")
    return CategoryRef(id=row[0], name=row[1], slug=row[2])


async def stores(*, conn: AsyncConnection) -> list[StorePublic]:
    """The stores a shopper can ask «в наличии» in, by id (at most MAX_STORES)."""
    rows = await conn.execute(
        text("SELECT id, name, address FROM store_store ORDER BY id LIMIT :limit"),
        {"limit": MAX_STORES},
    )
    return [StorePublic(id=sid, name=name, address=address) for sid, name, address in rows]


# --- a category's products ------------------------------------------------------------------


def _price(raw: str | Decimal | None, field: str, problems: dict[str, str]) -> int | None:
    """Roubles as typed («1 500», «99,90») in kopecks; None when empty; a problem noted."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text_form = "".join(str(raw).split()).replace(",", ".")
    try:
        value = Decimal(text_form)
    except InvalidOperation:
        problems[field] = "введите число рублей, например 1500"
        return None
    if not value.is_finite():
        problems[field] = "введите число рублей, например 1500"
    elif value < 0:
        problems[field] = "цена не может быть отрицательной"
    elif value > MAX_PRICE_ROUBLES:
        problems[field] = f"не больше {MAX_PRICE_ROUBLES:,} ₽".replace(",", "\u00a0")
    else:
        try:
            return to_kopecks(value)
        except ValueError:
            problems[field] = "не больше двух знаков после запятой"
    return None


def _store_id(raw: str | int | None, problems: dict[str, str]) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, int) or raw.isdecimal():
        number = int(raw)
        if 1 <= number <= 2**31 - 1:
            return number
    problems["storeId"] = "выберите магазин из списка"
    return None


def check_filters(
    *,
    sort: str = DEFAULT_SORT,
    price_from: str | Decimal | None = None,
    price_to: str | Decimal | None = None,
    store_id: str | int | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Filters:
    """A category page's choices as asked (a form's text or the contract's numbers), checked:
    ValidationError naming each bad field in Russian."""
    problems: dict[str, str] = {}
    if sort not in SORTS:
        problems["sort"] = "неизвестный порядок сортировки"
    low = _price(price_from, "priceFrom", problems)
    high = _price(price_to, "priceTo", problems)
    if low is not None and high is not None and low > high:
        problems["priceTo"] = "«до» меньше, чем «от»"
    chosen_store = _store_id(store_id, problems)
    if problems:
        first = next(iter(problems.values()))
        raise ValidationError(f"Проверьте фильтры: {first}", fields=problems)
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(
            f"Страница от 1, размер страницы от 1 до {MAX_PAGE_SIZE}", fields={"page": "от 1"}
        )
    if (page - 1) * page_size >= MAX_RESULTS:
        raise ValidationError(
            f"Можно просмотреть только первые {MAX_RESULTS} товаров",
            fields={"page": "слишком далеко"},
        )
    return Filters(sort, low, high, chosen_store, page, page_size)


async def _check_store(conn: AsyncConnection, store_id: int | None) -> None:
    if store_id is None:
        return
    found = await conn.scalar(text("SELECT 1 FROM store_store WHERE id = :id"), {"id": store_id})
    if found is None:
        raise ValidationError(
            "Проверьте фильтры: такого магазина нет", fields={"storeId": "выберите из списка"}
        )


async def category_ids(
    *, conn: AsyncConnection, category_id: int, filters: Filters
) -> tuple[list[int], bool]:
    """Ids of a page of the category's products, and whether another page may follow (never
    past MAX_RESULTS)."""
    offset = (filters.page - 1) * filters.page_size
    limit = min(filters.page_size, MAX_RESULTS - offset)
    query = select(P.id).where(P.category_id == category_id)
    if filters.price_from is not None:
        query = query.where(P.price_kopecks >= filters.price_from)
    if filters.price_to is not None:
        query = query.where(P.price_kopecks <= filters.price_to)
    if filters.store_id is not None:
        query = query.where(
            exists().where(
                ST.product_id == P.id,
                ST.store_id == filters.store_id,
                ST.quantity > ST.reserved,
            )
        )
    query = query.order_by(*SORTS[filters.sort]).limit(limit + 1).offset(offset)
    await plan_with_values(conn)  # which index suits depends on the filters' values
    ids = list((await conn.scalars(query)).all())
    return ids[:limit], len(ids) > limit and offset + limit < MAX_RESULTS


async def category_page(
    *, conn: AsyncConnection, category: CategoryRef, filters: Filters | None = None
) -> CategoryPage:
    """A page of product cards of the category (found by `category()`: unknown → 404 before
    any filter is judged)."""
    chosen = filters or Filters()
    await _check_store(conn, chosen.store_id)
    ids, has_more = await category_ids(conn=conn, category_id=category.id, filters=chosen)
    return CategoryPage(
        category=category,
        sort=chosen.sort,
        price_from=None if chosen.price_from is None else to_roubles(chosen.price_from),
        price_to=None if chosen.price_to is None else to_roubles(chosen.price_to),
        store_id=chosen.store_id,
        page=chosen.page,
        page_size=chosen.page_size,
        has_more=has_more,
        items=await cards(conn=conn, product_ids=ids),
    )


# --- the goods to look at first -------------------------------------------------------------


async def _bestsellers(
    conn: AsyncConnection, category_id: int | None, limit: int
) -> list[tuple[int, int]]:
    """(product id, category id) of the best-selling products, overall or of one category."""
    query = select(P.id, P.category_id)
    if category_id is not None:
        query = query.where(P.category_id == category_id)
    query = query.order_by(*SORTS["popular"]).limit(limit)
    return [(pid, cid) for pid, cid in await conn.execute(query)]


async def showcase(
    *, conn: AsyncConnection, popular: int = 8, shelves: int = 3, per_shelf: int = 4
) -> Showcase:
    """The categories, the `popular` bestsellers, and the bestsellers of the first `shelves`
    categories those belong to (`per_shelf` each, none repeated from the bestsellers)."""
    summaries = {summary.id: summary for summary in await categories(conn=conn)}
    top = await _bestsellers(conn, None, popular)
    shown = {pid for pid, _ in top}
    shelf_ids: dict[int, list[int]] = {}
    for cid in dict.fromkeys(cid for _, cid in top):  # the bestsellers' categories, in order
        if len(shelf_ids) == shelves:
            break
        if cid not in summaries:  # past MAX_CATEGORIES
            continue
        among = await _bestsellers(conn, cid, per_shelf + len(top))
        shelf_ids[cid] = [pid for pid, _ in among if pid not in shown][:per_shelf]
    found = await cards(
        conn=conn,
        product_ids=[pid for pid, _ in top] + [p for ids in shelf_ids.values() for p in ids],
    )
    card_of: dict[int, ProductCard] = {card.id: card for card in found}
    return Showcase(
        categories=list(summaries.values()),
        popular=[card_of[pid] for pid, _ in top if pid in card_of],
        shelves=[
            CategoryShelf(
                category=CategoryRef.model_validate(summaries[cid], from_attributes=True),
                items=[card_of[pid] for pid in ids if pid in card_of],
            )
            for cid, ids in shelf_ids.items()
            if ids
        ],
    )
