"""billing: customer wallets and gift cards, and the log of every balance change."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.attempts import AttemptLimit, limited
from core.db import SessionFactory, get_or_create
from core.errors import (
    ConflictError,
    InsufficientFundsError,
    NotFoundError,
    OperationInFlightError,
    ValidationError,
)
from core.money import format_roubles
from core.timeutil import utcnow
from models.billing import (
    ActivationAttempt,
    BillingTransaction,
    GiftCard,
    TransactionKind,
    Wallet,
)

if TYPE_CHECKING:
    from core.settings import Settings


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


Account = type[Wallet] | type[GiftCard]


async def _move(
    session: AsyncSession,
    *,
    account: Account,
    account_id: int,
    kind: TransactionKind,
    amount_kopecks: int,
    idempotency_key: str,
    reference: str,
) -> BillingTransaction:
    """Change a wallet's or gift card's balance once per key, logging the change; see
    debit_wallet."""
    if amount_kopecks <= 0:
        raise ValidationError("Сумма должна быть больше нуля")
    replay = await _replayed(session, idempotency_key)
    if replay is not None:
        account_of_replay = replay.wallet_id if account is Wallet else replay.gift_card_id
        if (account_of_replay, replay.kind, replay.amount_kopecks) != (
            account_id,
            kind,
            amount_kopecks,
        ):
            raise ConflictError("Ключ идемпотентности уже использован для другой операции")
        return replay
    delta = -amount_kopecks if kind is TransactionKind.DEBIT else amount_kopecks
    # The balance check and the change are one statement: concurrent debits serialize on the
    # row and none can take the balance below zero.
    changed = await session.exec(
        update(account)
        .where(col(account.id) == account_id, col(account.balance_kopecks) + delta >= 0)
        .values(balance_kopecks=col(account.balance_kopecks) + delta)
        .returning(col(account.balance_kopecks))
    )
    balance = changed.scalar_one_or_none()
    if balance is None:
        where = "в кошельке" if account is Wallet else "на подарочной карте"
        raise InsufficientFundsError(f"Недостаточно средств {where}")
    entry = BillingTransaction(
        idempotency_key=idempotency_key,
        wallet_id=account_id if account is Wallet else None,
        gift_card_id=account_id if account is GiftCard else None,
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
        raise OperationInFlightError("Операция с этим ключом уже выполняется") from exc
    return entry


async def _wallet_id(session: AsyncSession, username: str) -> int:
    wallet = await get_wallet(session=session, username=username)
    assert wallet.id is not None
    return wallet.id


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
        account=Wallet,
        account_id=await _wallet_id(session, username),
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
        account=Wallet,
        account_id=await _wallet_id(session, username),
        kind=TransactionKind.REFUND if refund else TransactionKind.CREDIT,
        amount_kopecks=amount_kopecks,
        idempotency_key=idempotency_key,
        reference=reference,
    )


# --- gift cards --------------------------------------------------------------------------------

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
CODE_LENGTH = 16
MAX_GIFT_CARD_KOPECKS = 100_000_00


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def normalize_code(text: str) -> str:
    """The code as issued, from what a shopper typed: case, spaces and dashes do not matter;
    ValidationError if it cannot be a code."""
    code = re.sub(r"[\s-]", "", text).upper().translate(str.maketrans("OIL", "011"))
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise ValidationError(
            "Код активации — 16 букв и цифр, например ABCD-EFGH-2345-6789",
            fields={"activationCode": "Неверный формат кода"},
        )
    return code


def issue_code(issue_key: str, secret: str) -> str:
    """The activation code of the card issued under `issue_key`: an HMAC, so a replayed issue
    gives the same code and the code is never stored."""
    digest = hmac.new(secret.encode("utf-8"), issue_key.encode("utf-8"), hashlib.sha256).digest()
    number = int.from_bytes(digest[:10], "big")  # 80 bits = 16 base-32 characters
    return "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, CODE_LENGTH, 4))


async def issue_gift_card(
    *,
    session: AsyncSession,
    amount_kopecks: int,
    issue_key: str,
    secret: str,
    recipient_name: str = "",
    recipient_email: str = "",
    design: str = "",
) -> tuple[GiftCard, str]:
    """A new unbound gift card and its activation code; replaying `issue_key` returns the same
    card and code (the balance is not topped up again)."""
    if not 0 < amount_kopecks <= MAX_GIFT_CARD_KOPECKS:
        raise ValidationError(
            f"Сумма подарочной карты — от {format_roubles(1)}"
            f" до {format_roubles(MAX_GIFT_CARD_KOPECKS)}",
            fields={"amount": "Неверная сумма"},
        )
    code = issue_code(issue_key, secret)
    found = await session.exec(select(GiftCard).where(GiftCard.issue_key == issue_key))
    card = found.first()
    if card is not None:
        if card.initial_kopecks != amount_kopecks:
            raise ConflictError("Ключ идемпотентности уже использован с другой суммой")
        return card, code
    card = GiftCard(
        code_hash=_code_hash(code),
        masked=f"•••• {code[-4:]}",
        initial_kopecks=amount_kopecks,
        balance_kopecks=amount_kopecks,
        recipient_name=recipient_name,
        recipient_email=recipient_email,
        design=design,
        issue_key=issue_key,
    )
    session.add(card)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise OperationInFlightError("Карта с этим ключом уже выпускается") from exc
    return card, code


async def activate_gift_card(*, session: AsyncSession, username: str, code: str) -> GiftCard:
    """Bind the card with this code to the shopper (once; again by the same shopper changes
    nothing). NotFoundError for an unknown code, ConflictError if another shopper has it."""
    code_hash = _code_hash(normalize_code(code))
    bound = await session.exec(
        update(GiftCard)
        .where(col(GiftCard.code_hash) == code_hash, col(GiftCard.owner_username).is_(None))
        .values(owner_username=username, activated_at=utcnow())
    )
    card = (await session.exec(select(GiftCard).where(GiftCard.code_hash == code_hash))).first()
    if card is None:
        raise NotFoundError(
            "Подарочная карта с таким кодом не найдена",
            fields={"activationCode": "Проверьте код из письма"},
        )
    if not bound.rowcount and card.owner_username != username:
        raise ConflictError("Эта подарочная карта уже активирована другим клиентом")
    await session.refresh(card)
    return card


# --- the limit on wrong activation codes --------------------------------------------------------


def activation_limit(settings: Settings) -> AttemptLimit:
    """At most so many wrong codes by one shopper and from one client address in the window."""
    return AttemptLimit(
        per_subject=settings.activation_wrong_codes_per_shopper,
        per_address=settings.activation_wrong_codes_per_address,
        window=timedelta(minutes=settings.activation_window_minutes),
    )


async def activate_gift_card_limited(
    *,
    sessions: SessionFactory,
    username: str,
    address: str,
    code: str,
    limit: AttemptLimit,
    clock: Callable[[], datetime] = utcnow,
) -> GiftCard:
    """`activate_gift_card` behind the limit on wrong codes (core/attempts.py `limited`): once the
    shopper or the client address has `limit` wrong codes within the window,
    TooManyAttemptsError — for a correct code too, or the refusal would be a hint. A wrong code
    (or one someone else activated) counts; a correct activation, a malformed code and a refused
    try do not."""
    normalized = normalize_code(code)  # malformed: refused before it counts

    async def activate(session: AsyncSession) -> GiftCard:
        return await activate_gift_card(session=session, username=username, code=normalized)

    return await limited(
        sessions=sessions,
        table=ActivationAttempt,
        subject=username,
        address=address,
        limit=limit,
        attempt=activate,
        refusal=lambda minutes: (
            f"Слишком много неверных кодов. Попробуйте снова через {minutes} мин."
        ),
        clock=clock,
    )


async def gift_cards(*, session: AsyncSession, username: str) -> list[GiftCard]:
    """The shopper's activated gift cards still on their list, oldest first."""
    found = await session.exec(
        select(GiftCard)
        .where(GiftCard.owner_username == username, col(GiftCard.forgotten_at).is_(None))
        .order_by(col(GiftCard.id))
    )
    return list(found.all())


async def get_gift_card(
    *, session: AsyncSession, username: str, gift_card_id: int, listed: bool = True
) -> GiftCard:
    """The shopper's activated card (`listed`: and not taken off the list); NotFoundError for
    anyone else's."""
    card = await session.get(GiftCard, gift_card_id)
    if (
        card is None
        or card.owner_username != username
        or (listed and card.forgotten_at is not None)
    ):
        raise NotFoundError("Подарочная карта не найдена")
    return card


async def debit_gift_card(
    *,
    session: AsyncSession,
    username: str,
    gift_card_id: int,
    amount_kopecks: int,
    idempotency_key: str,
    reference: str,
    refund: bool = False,
) -> BillingTransaction:
    """Pay from the shopper's activated card if its balance covers it, or (`refund`) give a
    payment back to it — even once the shopper took it off the list; once per key."""
    await get_gift_card(
        session=session, username=username, gift_card_id=gift_card_id, listed=not refund
    )
    return await _move(
        session,
        account=GiftCard,
        account_id=gift_card_id,
        kind=TransactionKind.REFUND if refund else TransactionKind.DEBIT,
        amount_kopecks=amount_kopecks,
        idempotency_key=idempotency_key,
        reference=reference,
    )


async def transactions(
    *, session: AsyncSession, username: str, limit: int = 100
) -> list[BillingTransaction]:
    """The newest `limit` entries of the shopper's wallet and activated gift cards, oldest first."""
    wallet_id = await _wallet_id(session, username)
    cards = select(GiftCard.id).where(GiftCard.owner_username == username)
    found = await session.exec(
        select(BillingTransaction)
        .where(
            or_(
                col(BillingTransaction.wallet_id) == wallet_id,
                col(BillingTransaction.gift_card_id).in_(cards),
            )
        )
        .order_by(col(BillingTransaction.id).desc())
        .limit(limit)
    )
    return list(reversed(found.all()))


async def forget_gift_card(*, session: AsyncSession, username: str, gift_card_id: int) -> None:
    """Take an empty card off the shopper's list (it stays theirs: a refund of a payment made with
    it still lands on it); ConflictError while money is left on it."""
    card = await get_gift_card(session=session, username=username, gift_card_id=gift_card_id)
    released = await session.exec(
        update(GiftCard)
        .where(col(GiftCard.id) == card.id, col(GiftCard.balance_kopecks) == 0)
        .values(forgotten_at=utcnow())
    )
    if not released.rowcount:
        raise ConflictError("На подарочной карте остались деньги: удалить её нельзя")
