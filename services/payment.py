"""payment: the customer's payment profile."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import get_or_create
from core.errors import NotFoundError
from models.payment import PaymentProfile


async def create_profile(*, session: AsyncSession, username: str) -> PaymentProfile:
    """The customer's payment profile, created if missing (idempotent)."""
    profile, _ = await get_or_create(session, PaymentProfile, username=username)
    return profile


async def get_profile(*, session: AsyncSession, username: str) -> PaymentProfile:
    """The customer's payment profile, or NotFoundError."""
    found = await session.exec(select(PaymentProfile).where(PaymentProfile.username == username))
    profile = found.first()
    if profile is None:
        raise NotFoundError("Платёжный профиль не найден")
    return profile


async def delete_profile(*, session: AsyncSession, username: str) -> bool:
    """Undo `create_profile`."""
    result = await session.exec(
        delete(PaymentProfile).where(col(PaymentProfile.username) == username)
    )
    return bool(result.rowcount)
