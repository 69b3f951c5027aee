"""payment activities."""

from __future__ import annotations

from temporalio import activity

from activities.errors import domain_errors
from core.db import SessionFactory, transaction
from models.payloads import Changed, CustomerInput, EntityRef
from services import payment


class PaymentActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @activity.defn(name="payment.create_profile")
    @domain_errors
    async def create_profile(self, data: CustomerInput) -> EntityRef:
        async with transaction(self._sessions) as session:
            profile = await payment.create_profile(session=session, username=data.username)
            assert profile.id is not None
            return EntityRef(id=profile.id)

    @activity.defn(name="payment.delete_profile")
    @domain_errors
    async def delete_profile(self, data: CustomerInput) -> Changed:
        async with transaction(self._sessions) as session:
            return Changed(await payment.delete_profile(session=session, username=data.username))
