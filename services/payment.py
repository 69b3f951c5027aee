"""payment: the customer's payment profile."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import get_or_create
from models.payment import PaymentProfile


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
