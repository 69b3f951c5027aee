"""delivery contracts (spec section 4, delivery): pickup points and courier variants by address."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from adapters.couriers import CourierQuote
from core.errors import UnavailableError
from core.money import to_roubles
from core.timeutil import to_moscow, utcnow
from edge.deps import CouriersDep, CurrentUser, SessionDep
from models.base import NO_CONTROL_CHARS
from models.delivery import DeliveryVariant, DeliveryVariants, PickupPointPublic, PickupPoints
from services import delivery

router = APIRouter(prefix="/delivery", tags=["delivery"])


@router.get("/points", response_model=PickupPoints, responses={400: {}, 401: {}})
async def pickup_points(
    session: SessionDep,
    _user: CurrentUser,
    address_filter: Annotated[str, Query(alias="addressFilter", pattern=NO_CONTROL_CHARS)] = "",
) -> PickupPoints:
    """Pickup points whose name or address contains the filter."""
    points = await delivery.list_pickup_points(session=session, address_filter=address_filter)
    return PickupPoints(
        pickup_points=[PickupPointPublic.model_validate(p, from_attributes=True) for p in points]
    )


def _variant(offer: delivery.Offer | CourierQuote) -> DeliveryVariant:
    return DeliveryVariant(
        company_name=offer.company_name,
        cost=to_roubles(offer.cost_kopecks),
        estimated_date=offer.estimated_date,
    )


@router.get("/variants", response_model=DeliveryVariants, responses={400: {}, 401: {}, 503: {}})
async def variants(
    session: SessionDep,
    couriers: CouriersDep,
    _user: CurrentUser,
    address: Annotated[str, Query(pattern=NO_CONTROL_CHARS)] = "",
) -> DeliveryVariants:
    """Who can deliver to the address, for how much and by when: our own couriers (in their
    cities, while a slot is free) and the courier companies that answer in time."""
    cleaned = delivery.check_address(address)
    today = to_moscow(utcnow()).date()
    offers: list[delivery.Offer | CourierQuote] = []
    own = await delivery.own_courier_offer(session=session, address=cleaned, today=today)
    if own is not None:
        offers.append(own)
    try:
        offers.extend(await couriers.quotes(cleaned, ship_date=today + timedelta(days=1)))
    except UnavailableError:
        if not offers:
            raise
    return DeliveryVariants(address=cleaned, variants=[_variant(offer) for offer in offers])
