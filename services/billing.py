"""billing: customer wallets."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import get_or_create
from core.errors import ConflictError, InsufficientFundsError, NotFoundError, ValidationError
from models.billing import BillingTransaction, TransactionKind, Wallet


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


async def _replayed(session: AsyncSession, key: str) -> BillingTransaction | None:
    found = await session.exec(
        select(BillingTransaction).where(BillingTransaction.idempotency_key == key)
    )
    return found.first()


async def _move(
    session: AsyncSession,
    *,
    username: str,
    kind: TransactionKind,
    amount_kopecks: int,
    idempotency_key: str,
    reference: str,
) -> BillingTransaction:
    """Change a wallet's balance once per key, logging the change; see debit_wallet."""
    if amount_kopecks <= 0:
        raise ValidationError("Сумма должна быть больше нуля")
    replay = await _replayed(session, idempotency_key)
    if replay is not None:
        return replay
    wallet = await get_wallet(session=session, username=username)
    delta = -amount_kopecks if kind is TransactionKind.DEBIT else amount_kopecks
    # The balance check and the change are one statement: concurrent debits serialize on the
    # row and none can take the balance below zero.
    changed = await session.exec(
        update(Wallet)
        .where(col(Wallet.id) == wallet.id, col(Wallet.balance_kopecks) + delta >= 0)
        .values(balance_kopecks=col(Wallet.balance_kopecks) + delta)
        .returning(col(Wallet.balance_kopecks))
    )
    balance = changed.scalar_one_or_none()
    if balance is None:
        raise InsufficientFundsError("Недостаточно средств в кошельке")
    assert wallet.id is not None
    entry = BillingTransaction(
        idempotency_key=idempotency_key,
        wallet_id=wallet.id,
        kind=kind,
        amount_kopecks=amount_kopecks,
        balance_after_kopecks=balance,
        reference=reference,
    )
    session.add(entry)
    try:
        await session.flush()
    except IntegrityError as exc:
        # A twin with the same key committed first; our whole transaction rolls back, and the
        # caller's retry will find the twin's result.
        raise ConflictError("Операция с этим ключом уже выполняется") from exc
    return entry


async def debit_wallet(
    *,
    session: AsyncSession,
    username: str,
    amount_kopecks: int,
    idempotency_key: str,
    reference: str,
) -> BillingTransaction:
    """Take money from the wallet if the balance covers it (InsufficientFundsError otherwise).
    Replaying the same key returns the first result and moves nothing."""
    return await _move(
        session,
        username=username,
        kind=TransactionKind.DEBIT,
        amount_kopecks=amount_kopecks,
        idempotency_key=idempotency_key,
        reference=reference,
    )


async def credit_wallet(
    *,
    session: AsyncSession,
    username: str,
    amount_kopecks: int,
    idempotency_key: str,
    reference: str,
    refund: bool = False,
) -> BillingTransaction:
    """Put money into the wallet (a top-up, or a refund of a payment); once per key."""
    return await _move(
        session,
        username=username,
        kind=TransactionKind.REFUND if refund else TransactionKind.CREDIT,
        amount_kopecks=amount_kopecks,
        idempotency_key=idempotency_key,
        reference=reference,
    )


async def transactions(*, session: AsyncSession, username: str) -> list[BillingTransaction]:
    """The wallet's log, oldest first."""
    wallet = await get_wallet(session=session, username=username)
    found = await session.exec(
        select(BillingTransaction)
        .where(BillingTransaction.wallet_id == wallet.id)
        .order_by(col(BillingTransaction.id))
    )
    return list(found.all())
