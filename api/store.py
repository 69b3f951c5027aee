"""store contracts (spec section 4, store) and the catalogue search of the header search line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import ConnectionDep, CurrentUser
from models.store import ProductAvailability, SearchPage
from services import store
from web.images import product_svg

router = APIRouter(prefix="/store", tags=["store"])


@router.get("/get", response_model=ProductAvailability, responses={401: {}, 404: {}})
async def availability(
    _user: CurrentUser, conn: ConnectionDep, product_id: Annotated[int, Query(alias="productId")]
) -> ProductAvailability:
    """Units of a product available in each store."""
    return await store.get_availability(conn=conn, product_id=product_id)


@router.get("/search", response_model=SearchPage, responses={400: {}})
async def search(
    conn: ConnectionDep,
    q: str = "",
    page: int = 1,
    size: Annotated[int, Query(alias="pageSize")] = 20,
) -> SearchPage:
    """Full-text search over names and descriptions: word forms, prefixes, best first."""
    return await store.search(conn=conn, query=q, page=page, page_size=size)


@router.get("/images/{product_id}.svg", responses={404: {}})
async def image(conn: ConnectionDep, product_id: int) -> Response:
    """The product's picture, drawn by our own code from its category and name."""
    name, category_slug = await store.product_label(conn=conn, product_id=product_id)
    return Response(
        product_svg(product_id=product_id, name=name, category_slug=category_slug),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
