"""store contracts (spec section 4, store) and the catalogue search of the header search line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from edge.deps import CatalogueDep, ConnectionDep, CurrentUser
from models.base import Id
from models.store import ProductAvailability, SearchPage
from services import store

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
) -> SearchPage:
    """Full-text search over names and descriptions: word forms, prefixes, best first."""
    return await catalogue.search(q, page, size)
