"""store contracts (spec section 4, store) and the catalogue search of the header search line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from edge.deps import CatalogueDep, ConnectionDep, CurrentUser
from models.base import Id
from models.store import (
    CategoryPage,
    CategorySummary,
    ProductAvailability,
    SearchPage,
    Suggestion,
)
from services import store, store_browse

router = APIRouter(prefix="/store", tags=["store"])


@router.get("/get", response_model=ProductAvailability, responses={400: {}, 401: {}, 404: {}})
async def availability(
    _user: CurrentUser, conn: ConnectionDep, product_id: Annotated[Id, Query(alias="productId")]
) -> ProductAvailability:
    """Units of a product available in each store."""
    return await store.get_availability(conn=conn, product_id=product_id)


@router.get("/search", response_model=SearchPage, responses={400: {}})
async def search(
    catalogue: CatalogueDep,
    q: str = "",
    page: int = 1,
    size: Annotated[int, Query(alias="pageSize")] = 20,
) -> Response:
    """Full-text search over names and descriptions: word forms, prefixes, best first. A query
    that finds nothing is tried again with its mistyped words corrected: `corrected` then holds
    the query the items were found for."""
    answer = await catalogue.answer(q, page, size)
    return Response(answer.json, media_type="application/json")  # encoded once, when cached


@router.get("/suggest", response_model=list[Suggestion])
async def suggest(catalogue: CatalogueDep, q: str = "") -> list[Suggestion]:
    """Products for what the shopper has typed so far, best first (at most 8; none for an empty
    or unusable query)."""
    return await catalogue.suggest(q)


@router.get("/categories", response_model=list[CategorySummary])
async def categories(conn: ConnectionDep) -> list[CategorySummary]:
    """The catalogue's categories by name, each with its product count (counted up to 1000:
    `countCapped` says there are more)."""
    return await store_browse.categories(conn=conn)


@router.get("/category", response_model=CategoryPage, responses={400: {}, 404: {}})
async def category(
    conn: ConnectionDep,
    slug: str,
    sort: str = store_browse.DEFAULT_SORT,
    # Roubles as text, checked by the service: its messages are the shopper's language.
    price_from: Annotated[str | None, Query(alias="priceFrom", max_length=40)] = None,
    price_to: Annotated[str | None, Query(alias="priceTo", max_length=40)] = None,
    store_id: Annotated[Id | None, Query(alias="storeId")] = None,
    page: int = 1,
) -> CategoryPage:
    """A page (24) of a category's products: `sort` popular (units sold, the default),
    price_asc, price_desc or new; a price range in roubles; only those available in the store
    `storeId`. Pages stop at the 1000th product; `hasMore` says whether another follows."""
    found = await store_browse.category(conn=conn, slug=slug)
    filters = store_browse.check_filters(
        sort=sort, price_from=price_from, price_to=price_to, store_id=store_id, page=page
    )
    return await store_browse.category_page(conn=conn, category=found, filters=filters)
