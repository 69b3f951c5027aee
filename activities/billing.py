"""billing activities."""

from __future__ import annotations

from temporalio import activity

from activities.errors import domain_errors
from core.db import SessionFactory, transaction
from models.payloads import Changed, CustomerInput, EntityRef
from services import billing


class BillingActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @activity.defn(name="billing.open_wallet")
    @domain_errors
    async def open_wallet(self, data: CustomerInput) -> EntityRef:
        async with transaction(self._sessions) as session:
            wallet = await billing.open_wallet(session=session, username=data.username)
            assert wallet.id is not None
            return EntityRef(id=wallet.id)

    @activity.defn(name="billing.close_empty_wallet")
    @domain_errors
    async def close_empty_wallet(self, data: CustomerInput) -> Changed:
        async with transaction(self._sessions) as session:
            return Changed(
                await billing.close_empty_wallet(session=session, username=data.username)
            )
