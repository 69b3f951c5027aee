"""billing: customer wallets."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import get_or_create
from core.errors import NotFoundError
from models.billing import Wallet


async def open_wallet(*, session: AsyncSession, username: str) -> Wallet:
    """The customer's wallet, opened with a zero balance if there is none yet (idempotent)."""
    wallet, _ = await get_or_create(session, Wallet, username=username)
    return wallet


async def get_wallet(*, session: AsyncSession, username: str) -> Wallet:
    """The customer's wallet, or NotFoundError."""
    wallet = (await session.exec(select(Wallet).where(Wallet.username == username))).first()
    if wallet is None:
        raise NotFoundError("Кошелёк не найден")
    return wallet


async def close_empty_wallet(*, session: AsyncSession, username: str) -> bool:
    """Undo `open_wallet`: removes the wallet only while it holds no money."""
    result = await session.exec(
        delete(Wallet).where(col(Wallet.username) == username, col(Wallet.balance_kopecks) == 0)
    )
    return bool(result.rowcount)
