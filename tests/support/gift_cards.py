"""Gift cards for the billing service tests: issued, activated, owned, debited and refunded
through the service functions, each in its own transaction; balances and logs read back."""

from __future__ import annotations

from sqlmodel import select

from core.db import SessionFactory, transaction
from models.billing import BillingTransaction, GiftCard
from services import billing

SECRET = "test-gift-card-secret"
CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


async def issue(sessions: SessionFactory, kopecks: int, key: str = "gift-1") -> tuple[int, str]:
    async with transaction(sessions) as session:
        card, code = await billing.issue_gift_card(
            session=session, amount_kopecks=kopecks, issue_key=key, secret=SECRET
        )
    assert card.id is not None
    return card.id, code


async def activate(sessions: SessionFactory, username: str, code: str) -> GiftCard:
    async with transaction(sessions) as session:
        return await billing.activate_gift_card(session=session, username=username, code=code)


async def owned_card(sessions: SessionFactory, kopecks: int, username: str = "alice") -> int:
    """An issued gift card activated by `username`."""
    card_id, code = await issue(sessions, kopecks, key=f"gift-{username}-{kopecks}")
    await activate(sessions, username, code)
    return card_id


async def card_balance(sessions: SessionFactory, card_id: int) -> int:
    async with transaction(sessions) as session:
        card = await session.get(GiftCard, card_id)
    assert card is not None
    return card.balance_kopecks


async def log_of(sessions: SessionFactory, card_id: int) -> list[tuple[str, int, int]]:
    async with transaction(sessions) as session:
        found = await session.exec(
            select(BillingTransaction)
            .where(BillingTransaction.gift_card_id == card_id)
            .order_by(BillingTransaction.id)  # type: ignore[arg-type]
        )
        return [(e.kind.value, e.amount_kopecks, e.balance_after_kopecks) for e in found.all()]


async def debit(
    sessions: SessionFactory,
    card_id: int,
    kopecks: int,
    key: str,
    username: str = "alice",
    *,
    refund: bool = False,
) -> BillingTransaction:
    async with transaction(sessions) as session:
        return await billing.debit_gift_card(
            session=session,
            username=username,
            gift_card_id=card_id,
            amount_kopecks=kopecks,
            idempotency_key=key,
            reference="order:o1",
            refund=refund,
        )


async def refund(
    sessions: SessionFactory, card_id: int, kopecks: int, key: str, username: str = "alice"
) -> BillingTransaction:
    return await debit(sessions, card_id, kopecks, key, username, refund=True)
