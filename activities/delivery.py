"""delivery activities: pricing the shopper's choice, opening and cancelling delivery cases."""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import activity

from activities.errors import domain_errors
from adapters.couriers import CourierGateway
from core.db import SessionFactory, transaction
from core.errors import ValidationError
from core.money import format_roubles
from core.timeutil import to_moscow, utcnow
from models.payloads import (
    Changed,
    DeliveryChoice,
    DeliveryRequest,
    EntityRef,
    OpenCaseInput,
    OrderRef,
)
from services import delivery

PICKUP_DAYS = 2


class DeliveryActivities:
    def __init__(self, session_factory: SessionFactory, couriers: CourierGateway) -> None:
        self._sessions = session_factory
        self._couriers = couriers

    @activity.defn(name="delivery.quote")
    @domain_errors
    async def quote(self, data: DeliveryRequest) -> DeliveryChoice:
        """Price the shopper's choice now, from the same sources as /delivery/variants."""
        today = to_moscow(utcnow()).date()
        if data.kind == "PICKUP":
            if data.pickup_point_id is None:
                raise ValidationError(
                    "Выберите пункт выдачи", fields={"pickupPointId": "не выбран"}
                )
            async with transaction(self._sessions) as session:
                point = await delivery.get_pickup_point(
                    session=session, point_id=data.pickup_point_id
                )
            when = today + timedelta(days=PICKUP_DAYS)
            return DeliveryChoice(
                kind="PICKUP",
                company_name=point.name,
                address=point.address,
                pickup_point_id=point.id,
                cost_kopecks=0,
                estimated_date=when.isoformat(),
                summary=f"Самовывоз: {point.name}, {point.address}, с {when:%d.%m.%Y}",
            )
        if data.kind != "COURIER":
            raise ValidationError("Способ доставки: курьер или пункт выдачи")
        address = delivery.check_address(data.address)
        async with transaction(self._sessions) as session:
            own = await delivery.own_courier_offer(session=session, address=address, today=today)
        offers: dict[str, tuple[int, date]] = {}
        if own is not None:
            offers[own.company_name] = (own.cost_kopecks, own.estimated_date)
        if data.company_name not in offers:
            quotes = await self._couriers.quotes(address, ship_date=today + timedelta(days=1))
            offers.update({q.company_name: (q.cost_kopecks, q.estimated_date) for q in quotes})
        if data.company_name not in offers:
            raise ValidationError(
                "Эта служба не доставляет по указанному адресу",
                fields={"companyName": "недоступна"},
            )
        cost, when = offers[data.company_name]
        # The company's name may hold the kind already («Shopflow Курьер»): not «Курьер» again.
        summary = (
            f"Доставка курьером ({data.company_name}): {address}, {when:%d.%m.%Y},"
            f" {format_roubles(cost)}"
        )
        return DeliveryChoice(
            kind="COURIER",
            company_name=data.company_name,
            address=address,
            pickup_point_id=None,
            cost_kopecks=cost,
            estimated_date=when.isoformat(),
            summary=summary,
        )

    @activity.defn(name="delivery.open_case")
    @domain_errors
    async def open_case(self, data: OpenCaseInput) -> EntityRef:
        choice = data.choice
        async with transaction(self._sessions) as session:
            case = await delivery.open_case(
                session=session,
                order_id=data.order_id,
                kind=choice.kind,
                company_name=choice.company_name,
                address=choice.address,
                pickup_point_id=choice.pickup_point_id,
                cost_kopecks=choice.cost_kopecks,
                estimated_date=date.fromisoformat(choice.estimated_date),
            )
            assert case.id is not None
            return EntityRef(case.id)

    @activity.defn(name="delivery.cancel_case")
    @domain_errors
    async def cancel_case(self, data: OrderRef) -> Changed:
        async with transaction(self._sessions) as session:
            return Changed(await delivery.cancel_case(session=session, order_id=data.order_id))
