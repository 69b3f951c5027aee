"""payment: the customer's payment profile and remembered bank cards."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import get_or_create
from core.errors import NotFoundError
from models.payment import PaymentProfile, SavedCard


async def create_profile(*, session: AsyncSession, username: str) -> PaymentProfile:
    """The customer's payment profile, created if missing (idempotent)."""
    profile, _ = await get_or_create(session, PaymentProfile, username=username)
    return profile


async def delete_profile(*, session: AsyncSession, username: str) -> bool:
    """Undo `create_profile`."""
    result = await session.exec(
        delete(PaymentProfile).where(col(PaymentProfile.username) == username)
    )
    return bool(result.rowcount)


async def saved_cards(*, session: AsyncSession, username: str) -> list[SavedCard]:
    """The shopper's remembered bank cards, oldest first."""
    found = await session.exec(
        select(SavedCard).where(SavedCard.username == username).order_by(col(SavedCard.id))
    )
    return list(found.all())


async def get_saved_card(*, session: AsyncSession, username: str, card_id: int) -> SavedCard:
    """One of the shopper's cards; NotFoundError for anyone else's."""
    card = await session.get(SavedCard, card_id)
    if card is None or card.username != username:
        raise NotFoundError("Сохранённая карта не найдена")
    return card


async def save_card(
    *, session: AsyncSession, username: str, bank_token: str, masked: str, expiry: str
) -> SavedCard:
    """Remember a card the bank bound during a payment (idempotent: the same token once)."""
    card, _ = await get_or_create(
        session,
        SavedCard,
        {"masked": masked, "expiry": expiry},
        username=username,
        bank_token=bank_token,
    )
    return card


async def delete_saved_card(*, session: AsyncSession, username: str, card_id: int) -> None:
    """Forget one of the shopper's cards; NotFoundError for anyone else's."""
    result = await session.exec(
        delete(SavedCard).where(col(SavedCard.id) == card_id, col(SavedCard.username) == username)
    )
    if not result.rowcount:
        raise NotFoundError("Сохранённая карта не найдена")
