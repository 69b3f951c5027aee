"""store activities: holding, confirming and releasing stock for checkouts."""

from __future__ import annotations

from temporalio import activity

from activities.errors import domain_errors
from core.db import SessionFactory, transaction
from models.payloads import EntityRef, HoldInput, OrderRef, Units
from services import stock


class StoreActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @activity.defn(name="store.hold_stock")
    @domain_errors
    async def hold_stock(self, data: HoldInput) -> Units:
        async with transaction(self._sessions) as session:
            holds = await stock.hold_stock(
                session=session,
                order_id=data.order_id,
                lines=[(line.product_id, line.quantity) for line in data.lines],
            )
            return Units(sum(h.quantity for h in holds))

    @activity.defn(name="store.release_stock")
    @domain_errors
    async def release_stock(self, data: OrderRef) -> Units:
        async with transaction(self._sessions) as session:
            return Units(await stock.release_stock(session=session, order_id=data.order_id))

    @activity.defn(name="store.confirm_stock")
    @domain_errors
    async def confirm_stock(self, data: OrderRef) -> EntityRef:
        async with transaction(self._sessions) as session:
            case = await stock.confirm_stock(session=session, order_id=data.order_id)
            assert case.id is not None
            return EntityRef(case.id)
