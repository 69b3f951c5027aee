"""billing activities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict

from temporalio import activity

from activities.errors import domain_errors
from core.db import SessionFactory, transaction
from models.billing import BillingTransaction
from models.payloads import (
    Changed,
    CustomerInput,
    EntityRef,
    GiftCardMoveInput,
    MoneyMoved,
    WalletMoveInput,
)
from models.payloads_purchase import IssueGiftCardInput
from services import billing

# core.settings' development default; a worker is given the configured one.
DEV_GIFT_CARD_SECRET = "dev-gift-card-secret"  # noqa: S105


class BillingActivities:
    def __init__(
        self, session_factory: SessionFactory, gift_card_secret: str = DEV_GIFT_CARD_SECRET
    ) -> None:
        self._sessions = session_factory
        self._gift_card_secret = gift_card_secret

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

    async def _move(
        self,
        move: Callable[..., Awaitable[BillingTransaction]],
        data: WalletMoveInput | GiftCardMoveInput,
        **extra: object,
    ) -> MoneyMoved:
        """One balance change in its own transaction; `data`'s fields are the service's
        arguments."""
        async with transaction(self._sessions) as session:
            entry = await move(session=session, **asdict(data), **extra)
            assert entry.id is not None
            masked = ""
            if isinstance(data, GiftCardMoveInput):  # the shopper knows the card by this
                card = await billing.get_gift_card(
                    session=session,
                    username=data.username,
                    gift_card_id=data.gift_card_id,
                    listed=False,
                )
                masked = card.masked
            return MoneyMoved(entry.id, entry.balance_after_kopecks, masked)

    @activity.defn(name="billing.debit_wallet")
    @domain_errors
    async def debit_wallet(self, data: WalletMoveInput) -> MoneyMoved:
        return await self._move(billing.debit_wallet, data)

    @activity.defn(name="billing.refund_wallet")
    @domain_errors
    async def refund_wallet(self, data: WalletMoveInput) -> MoneyMoved:
        return await self._move(billing.credit_wallet, data, refund=True)

    @activity.defn(name="billing.debit_gift_card")
    @domain_errors
    async def debit_gift_card(self, data: GiftCardMoveInput) -> MoneyMoved:
        return await self._move(billing.debit_gift_card, data)

    @activity.defn(name="billing.refund_gift_card")
    @domain_errors
    async def refund_gift_card(self, data: GiftCardMoveInput) -> MoneyMoved:
        return await self._move(billing.debit_gift_card, data, refund=True)

    @activity.defn(name="billing.issue_gift_card")
    @domain_errors
    async def issue_gift_card(self, data: IssueGiftCardInput) -> EntityRef:
        """A paid gift card (spec Formats 5, 10, 11): once per purchase. Its code is not
        answered: only the grantee's mail carries it."""
        async with transaction(self._sessions) as session:
            card, _code = await billing.issue_gift_card(
                session=session,
                amount_kopecks=data.amount_kopecks,
                issue_key=data.issue_key,
                secret=self._gift_card_secret,
                recipient_name=data.order.grantee_name,
                recipient_email=data.order.grantee_email,
                design=data.order.design,
            )
            assert card.id is not None
            return EntityRef(id=card.id)

    @activity.defn(name="billing.credit_wallet")
    @domain_errors
    async def credit_wallet(self, data: WalletMoveInput) -> MoneyMoved:
        """A top-up paid at the bank: the money goes into the wallet once per key."""
        return await self._move(billing.credit_wallet, data)
