"""store contracts (spec section 4, store) and the catalogue search of the header search line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import ConnectionDep, CurrentUser
from core.cache import TTLCache
from core.text import normalize
from models.base import Id
from models.store import ProductAvailability, SearchPage
from services import store
from web.images import product_svg

router = APIRouter(prefix="/store", tags=["store"])


@router.get("/get", response_model=ProductAvailability, responses={400: {}, 401: {}, 404: {}})
async def availability(
    _user: CurrentUser, conn: ConnectionDep, product_id: Annotated[Id, Query(alias="productId")]
) -> ProductAvailability:
    """Units of a product available in each store."""
    return await store.get_availability(conn=conn, product_id=product_id)


async def cached_search(request: Request, query: str, page: int, size: int) -> SearchPage:
    """A page of search results, from the last few seconds' answers when the same page was just
    asked for: popular queries then cost no database work. Stock shown may be that many seconds
    old; checkout holds stock against the database anyway."""
    cache: TTLCache[SearchPage] | None = request.app.state.search_cache
    key = (normalize(" ".join(query.split())), page, size)
    if cache is not None and (hit := cache.get(key)) is not None:
        # The key folds case and spaces; the answer echoes the query as this shopper typed it.
        return hit if hit.query == query else hit.model_copy(update={"query": query})
    async with request.app.state.engine.connect() as conn:  # only on a miss
        result = await store.search(conn=conn, query=query, page=page, page_size=size)
    if cache is not None:
        cache.put(key, result)
    return result


@router.get("/search", response_model=SearchPage, responses={400: {}})
async def search(
    request: Request,
    q: str = "",
    page: int = 1,
    size: Annotated[int, Query(alias="pageSize")] = 20,
) -> SearchPage:
    """Full-text search over names and descriptions: word forms, prefixes, best first."""
    return await cached_search(request, q, page, size)


@router.get("/images/{product_id}.svg", responses={400: {}, 404: {}})
async def image(conn: ConnectionDep, product_id: Id) -> Response:
    """The product's picture, drawn by our own code from its category and name."""
    name, category_slug = await store.product_label(conn=conn, product_id=product_id)
    return Response(
        product_svg(product_id=product_id, name=name, category_slug=category_slug),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
