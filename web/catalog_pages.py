"""Browsing the catalogue: the home page (greeting, categories, bestsellers), «Каталог товаров»
(`/catalog`) and a category's page (`/catalog/{slug}`: sorting, a price range, «в наличии в
магазине», pages) — plain GET forms and links, nothing needs JavaScript."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from core.errors import ValidationError
from edge.deps import ConnectionDep, OptionalUser
from models.store import CategoryPage, CategorySummary
from services import store_browse
from web.pages import _page, templates

router = APIRouter(include_in_schema=False)

SORT_LABELS = {
    "popular": "По популярности",
    "price_asc": "Сначала дешевле",
    "price_desc": "Сначала дороже",
    "new": "Сначала новые",
}
CATALOG_POPULAR = 12


def goods_count(category: CategorySummary) -> str:
    """«1 товар», «3 товара», «25 товаров», «более 10 000 товаров»."""
    count = category.product_count
    number = f"{count:,}".replace(",", "\u00a0")
    if category.count_capped:
        return f"более {number} товаров"
    if count % 10 == 1 and count % 100 != 11:
        word = "товар"
    elif 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        word = "товара"
    else:
        word = "товаров"
    return f"{number} {word}"


templates.env.filters["goods_count"] = goods_count


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: OptionalUser, conn: ConnectionDep) -> Response:
    """The greeting (or the invitation to register), the categories and goods to look at."""
    showcase = await store_browse.showcase(conn=conn)
    return _page(request, "index.html", user=user, showcase=showcase)


@router.get("/catalog", response_class=HTMLResponse)
async def catalog_page(request: Request, user: OptionalUser, conn: ConnectionDep) -> Response:
    """«Каталог товаров»: every category with its count, and the bestsellers (where the purchase
    pages lead)."""
    showcase = await store_browse.showcase(conn=conn, popular=CATALOG_POPULAR, shelves=0)
    return _page(request, "store/catalog.html", user=user, showcase=showcase)


def _page_url(slug: str, form: dict[str, str], page: int) -> str:
    """The category's page `page` with the same choices (the empty ones left out)."""
    chosen = {name: value for name, value in form.items() if value} | {"page": str(page)}
    return f"/catalog/{slug}?{urlencode(chosen)}"


@router.get("/catalog/{slug}", response_class=HTMLResponse)
async def category_page(
    request: Request,
    user: OptionalUser,
    conn: ConnectionDep,
    slug: str,
    sort: str = store_browse.DEFAULT_SORT,
    price_from: Annotated[str, Query(alias="priceFrom")] = "",
    price_to: Annotated[str, Query(alias="priceTo")] = "",
    store_id: Annotated[str, Query(alias="storeId")] = "",
    page: int = 1,
) -> Response:
    """A category's products; an unknown category is 404, bad choices are explained on the page
    next to their fields."""
    category = await store_browse.category(conn=conn, slug=slug)
    form = {"sort": sort, "priceFrom": price_from, "priceTo": price_to, "storeId": store_id}
    context: dict[str, Any] = {
        "category": category,
        "form": form,
        "sorts": list(SORT_LABELS.items()),
        "stores": await store_browse.stores(conn=conn),
        "fields": {},
    }
    try:
        filters = store_browse.check_filters(
            sort=sort, price_from=price_from, price_to=price_to, store_id=store_id, page=page
        )
        results: CategoryPage = await store_browse.category_page(
            conn=conn, category=category, filters=filters
        )
    except ValidationError as exc:
        context.update(problem=exc.message, fields=exc.fields)
        return _page(request, "store/category.html", user=user, **context)
    context.update(
        results=results,
        previous_url=_page_url(category.slug, form, page - 1) if page > 1 else None,
        next_url=_page_url(category.slug, form, page + 1) if results.has_more else None,
    )
    return _page(request, "store/category.html", user=user, **context)
