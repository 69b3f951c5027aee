"""billing contracts (spec section 4, billing): balances of the wallet and gift cards, charges,
the operation log, new gift cards.

`/billing/token/get` and `/billing/trxn/get` answer the shopper about their own accounts (another
username is 404, as an unknown one). `/billing/token/charge` and `/billing/token/create` move or
create money: only our own services may call them, with the `X-Service-Key` header.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import AuthError, NotFoundError, ValidationError
from core.money import format_roubles, to_kopecks, to_roubles
from edge.deps import CurrentUser, SessionDep, SettingsDep
from models.auth import EMAIL_PATTERN
from models.base import NO_CONTROL_CHARS, CamelModel, Id, Roubles
from models.billing import BillingTransaction, GiftCard, Wallet
from services import billing

router = APIRouter(prefix="/billing", tags=["billing"])
ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Invalid request"},
    401: {"description": "Not authorized"},
    404: {"description": "Client or account not found"},
    409: {"description": "Not enough money, or the idempotency key was used for another request"},
}
Amount = Annotated[Decimal, Field(gt=0, le=1_000_000, decimal_places=2)]


async def require_service_key(
    settings: SettingsDep, key: Annotated[str | None, Header(alias="X-Service-Key")] = None
) -> None:
    """Internal contracts: our services present the shared key."""
    if not key or not hmac.compare_digest(
        key.encode(), settings.service_key.get_secret_value().encode()
    ):
        raise AuthError("Нужен ключ сервиса (X-Service-Key)")


ServiceOnly = Depends(require_service_key)


class AccountPublic(CamelModel):
    id: int
    token_type: Literal["WALLET", "GIFT_CARD"]
    masked_token_id: str
    description: str
    balance: Roubles


class AccountsPublic(CamelModel):
    username: str
    tokens: list[AccountPublic]


class TransactionPublic(CamelModel):
    id: int
    token_type: Literal["WALLET", "GIFT_CARD"]
    token_id: int
    kind: str
    amount: Roubles
    balance_after: Roubles
    reference: str
    created_at: datetime


class TransactionsPublic(CamelModel):
    username: str
    transactions: list[TransactionPublic]


Text = Annotated[str, Field(pattern=NO_CONTROL_CHARS)]


class ChargeBody(CamelModel):
    username: Text = Field(min_length=1, max_length=32)
    token_type: Literal["WALLET", "GIFT_CARD"]
    token_id: Id | None = Field(default=None, description="the gift card; not for WALLET")
    operation: Literal["DEBIT", "CREDIT", "REFUND"] = "DEBIT"
    amount: Amount
    idempotency_key: Text = Field(min_length=8, max_length=200)
    reference: Text = Field(default="", max_length=120)


class TrxnBody(CamelModel):
    username: str = Field(min_length=1, max_length=32)
    limit: int = Field(default=50, ge=1, le=500)


class GiftCardBody(CamelModel):
    amount: Amount
    recipient_name: Text = Field(default="", max_length=80)
    recipient_email: str = Field(default="", max_length=254, pattern=f"^({EMAIL_PATTERN})?$")
    design: Text = Field(default="", max_length=20)
    idempotency_key: Text = Field(min_length=8, max_length=200)


class GiftCardCreated(AccountPublic):
    activation_code: str


def wallet_public(wallet: Wallet) -> AccountPublic:
    assert wallet.id is not None
    return AccountPublic(
        id=wallet.id,
        token_type="WALLET",
        masked_token_id=f"Кошелёк №{wallet.id}",
        description="Кошелёк клиента",
        balance=to_roubles(wallet.balance_kopecks),
    )


def gift_card_public(card: GiftCard) -> AccountPublic:
    assert card.id is not None
    return AccountPublic(
        id=card.id,
        token_type="GIFT_CARD",
        masked_token_id=card.masked,
        description=f"Подарочная карта на {format_roubles(card.initial_kopecks)}",
        balance=to_roubles(card.balance_kopecks),
    )


def transaction_public(entry: BillingTransaction) -> TransactionPublic:
    assert entry.id is not None
    return TransactionPublic(
        id=entry.id,
        token_type="WALLET" if entry.wallet_id is not None else "GIFT_CARD",
        token_id=entry.wallet_id or entry.gift_card_id or 0,
        kind=entry.kind.value,
        amount=to_roubles(entry.amount_kopecks),
        balance_after=to_roubles(entry.balance_after_kopecks),
        reference=entry.reference,
        created_at=entry.created_at,
    )


def _own(user: CurrentUser, username: str) -> None:
    if username != user.username:
        raise NotFoundError("Клиент не найден")


@router.get("/token/get", response_model=AccountsPublic, responses=ERRORS)
async def token_get(
    username: Annotated[str, Query(min_length=1, max_length=32)],
    user: CurrentUser,
    session: SessionDep,
) -> AccountsPublic:
    """The shopper's wallet and activated gift cards with their balances."""
    _own(user, username)
    return await accounts(session, username)


async def accounts(session: AsyncSession, username: str) -> AccountsPublic:
    wallet = await billing.get_wallet(session=session, username=username)
    cards = await billing.gift_cards(session=session, username=username)
    return AccountsPublic(
        username=username, tokens=[wallet_public(wallet), *map(gift_card_public, cards)]
    )


@router.post("/trxn/get", response_model=TransactionsPublic, responses=ERRORS)
async def trxn_get(body: TrxnBody, user: CurrentUser, session: SessionDep) -> TransactionsPublic:
    """The newest operations on the shopper's wallet and gift cards, newest first."""
    _own(user, body.username)
    log = await billing.transactions(session=session, username=body.username, limit=body.limit)
    return TransactionsPublic(
        username=body.username, transactions=[transaction_public(e) for e in reversed(log)]
    )


@router.post(
    "/token/charge",
    response_model=TransactionPublic,
    responses=ERRORS,
    dependencies=[ServiceOnly],
)
async def token_charge(body: ChargeBody, session: SessionDep) -> TransactionPublic:
    """One operation on a wallet or gift card, once per idempotency key (a replay answers the first
    result). A debit never takes a balance below zero (409)."""
    amount, key, ref, who = (
        to_kopecks(body.amount),
        body.idempotency_key,
        body.reference,
        body.username,
    )
    if body.token_type == "WALLET" and body.operation == "DEBIT":
        entry = await billing.debit_wallet(
            session=session, username=who, amount_kopecks=amount, idempotency_key=key, reference=ref
        )
    elif body.token_type == "WALLET":
        entry = await billing.credit_wallet(
            session=session,
            username=who,
            amount_kopecks=amount,
            idempotency_key=key,
            reference=ref,
            refund=body.operation == "REFUND",
        )
    elif body.token_id is None:
        raise ValidationError("Укажите подарочную карту", fields={"tokenId": "обязательное поле"})
    elif body.operation == "CREDIT":
        raise ValidationError(
            "Подарочную карту нельзя пополнить", fields={"operation": "DEBIT или REFUND"}
        )
    else:
        entry = await billing.debit_gift_card(
            session=session,
            username=who,
            gift_card_id=body.token_id,
            amount_kopecks=amount,
            idempotency_key=key,
            reference=ref,
            refund=body.operation == "REFUND",
        )
    return transaction_public(entry)


@router.post(
    "/token/create",
    response_model=GiftCardCreated,
    responses=ERRORS,
    dependencies=[ServiceOnly],
)
async def token_create(
    body: GiftCardBody, session: SessionDep, settings: SettingsDep
) -> GiftCardCreated:
    """A new, not yet activated gift card and its activation code (for the recipient's mail).
    A replayed idempotency key answers the same card and code."""
    card, code = await billing.issue_gift_card(
        session=session,
        amount_kopecks=to_kopecks(body.amount),
        issue_key=body.idempotency_key,
        secret=settings.gift_card_secret.get_secret_value(),
        recipient_name=body.recipient_name,
        recipient_email=body.recipient_email,
        design=body.design,
    )
    return GiftCardCreated(
        **gift_card_public(card).model_dump(), activation_code=billing.format_code(code)
    )
