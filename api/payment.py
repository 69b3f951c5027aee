"""payment contracts (spec section 4, payment): the shopper's payment means, paying an order,
gift card activation, and the bank's callback.

    GET    /payment/tokens/get                     remembered bank cards and activated gift cards
    POST   /payment/tokens/add    {tokenType: GIFT_CARD, activationCode}   = /payment/activate
    DELETE /payment/tokens/delete ?tokenType=BANK_CARD|GIFT_CARD&id=       forget one
    POST   /payment/pay           {orderId, tokenType, tokenId?, saveCard?}  «Оплатить»
    POST   /payment/activate      {activationCode}                         bind a gift card
    POST   /payment/bank/callback ?flow=payment-…   the bank's signed notice (X-Bank-Signature)

A bank card is remembered while paying («Запомнить карту» on «другая карта»): the bank binds it and
returns a token and a masked number, so `tokens/add` takes gift cards only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from adapters.bank import SIGNATURE_HEADER
from api.billing import gift_card_public
from core.errors import ValidationError
from edge.deps import (
    CheckoutsDep,
    ClientAddress,
    CurrentUser,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    TemporalDep,
)
from flows.bank_notices import deliver_bank_notice
from flows.views import CheckoutPublic, checkout_public
from models.base import CamelModel, Id, Roubles
from models.billing import GiftCard
from models.order import OrderId
from models.payment import SavedCard
from models.purchase import PayBody
from services import billing, payment

router = APIRouter(prefix="/payment", tags=["payment"])
ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Invalid request"},
    401: {"description": "Not authorized"},
    404: {"description": "Payment means, code or order not found"},
    409: {"description": "Inappropriate state (e.g. a gift card activated by someone else)"},
}


class TokenPublic(CamelModel):
    id: int
    token_type: Literal["BANK_CARD", "GIFT_CARD"]
    masked_token_id: str
    description: str
    balance: Roubles | None = None  # gift cards


class TokensPublic(CamelModel):
    username: str
    tokens: list[TokenPublic]


class ActivateBody(CamelModel):
    activation_code: str = Field(min_length=1, max_length=40)


class AddTokenBody(CamelModel):
    token_type: Literal["BANK_CARD", "GIFT_CARD"]
    activation_code: str | None = Field(default=None, max_length=40)


class OrderPayBody(PayBody):
    """The checkout's «Оплатить» body plus the order; `tokenType` is the spec's name for the
    method (QR_PAY = СБП)."""

    order_id: OrderId
    method: Literal["WALLET", "BANK_CARD", "SBP", "QR_PAY", "GIFT_CARD"] = Field(alias="tokenType")


class CallbackAccepted(CamelModel):
    accepted: bool
    delivered_to: str


def card_public(card: SavedCard) -> TokenPublic:
    assert card.id is not None
    return TokenPublic(
        id=card.id,
        token_type="BANK_CARD",
        masked_token_id=card.masked,
        description=f"Банковская карта, действует до {card.expiry}",
    )


def gift_token(card: GiftCard) -> TokenPublic:
    account = gift_card_public(card)
    return TokenPublic(
        id=account.id,
        token_type="GIFT_CARD",
        masked_token_id=account.masked_token_id,
        description=account.description,
        balance=account.balance,
    )


@router.get("/tokens/get", response_model=TokensPublic, responses=ERRORS)
async def tokens_get(user: CurrentUser, session: SessionDep) -> TokensPublic:
    """The shopper's remembered bank cards, then activated gift cards with balances."""
    cards = await payment.saved_cards(session=session, username=user.username)
    gifts = await billing.gift_cards(session=session, username=user.username)
    return TokensPublic(
        username=user.username, tokens=[*map(card_public, cards), *map(gift_token, gifts)]
    )


ACTIVATION_ERRORS: dict[int | str, dict[str, str]] = {
    **ERRORS,
    429: {"description": "Too many wrong activation codes: wait Retry-After seconds"},
}


@router.post("/activate", response_model=TokenPublic, responses=ACTIVATION_ERRORS)
async def activate(
    body: ActivateBody,
    address: ClientAddress,
    user: CurrentUser,
    sessions: SessionFactoryDep,
    settings: SettingsDep,
) -> TokenPublic:
    """«Активировать подарочную карту»: the card with this code becomes the shopper's; answers
    its balance. Again by the same shopper changes nothing. Past the limit on wrong codes per
    shopper and per client address: 429 with Retry-After, whatever the code."""
    card = await billing.activate_gift_card_limited(
        sessions=sessions,
        username=user.username,
        address=address,
        code=body.activation_code,
        limit=billing.activation_limit(settings),
    )
    return gift_token(card)


@router.post("/tokens/add", response_model=TokenPublic, responses=ACTIVATION_ERRORS)
async def tokens_add(
    body: AddTokenBody,
    address: ClientAddress,
    user: CurrentUser,
    sessions: SessionFactoryDep,
    settings: SettingsDep,
) -> TokenPublic:
    """Add a payment means: a gift card by its activation code."""
    if body.token_type == "BANK_CARD":
        raise ValidationError(
            "Банковская карта сохраняется при оплате: выберите «другая карта» и отметьте "
            "«Запомнить карту»",
            fields={"tokenType": "только GIFT_CARD"},
        )
    if not body.activation_code:
        raise ValidationError(
            "Введите код активации", fields={"activationCode": "обязательное поле"}
        )
    return await activate(
        ActivateBody(activation_code=body.activation_code), address, user, sessions, settings
    )


@router.delete("/tokens/delete", responses=ERRORS)
async def tokens_delete(
    token_type: Annotated[Literal["BANK_CARD", "GIFT_CARD"], Query(alias="tokenType")],
    token_id: Annotated[Id, Query(alias="id")],
    user: CurrentUser,
    session: SessionDep,
) -> dict[str, bool]:
    """Forget a remembered card, or an empty gift card (409 while money is left on it)."""
    if token_type == "BANK_CARD":
        await payment.delete_saved_card(session=session, username=user.username, card_id=token_id)
    else:
        await billing.forget_gift_card(
            session=session, username=user.username, gift_card_id=token_id
        )
    return {"deleted": True}


@router.post("/pay", response_model=CheckoutPublic, responses=ERRORS)
async def pay(body: OrderPayBody, user: CurrentUser, checkouts: CheckoutsDep) -> CheckoutPublic:
    """Pay the order being checked out: the same as «Оплатить» on the checkout page."""
    return checkout_public(await checkouts.pay(user.username, body.order_id, body.request()))


@router.post("/bank/callback", response_model=CallbackAccepted, responses=ERRORS)
async def bank_callback(
    request: Request,
    settings: SettingsDep,
    temporal: TemporalDep,
    flow: Annotated[str, Query(max_length=140)],
) -> CallbackAccepted:
    """The bank's notice that a payment changed. Only a correct HMAC of the raw body is taken;
    it wakes the payment run (which then asks the bank), or, once that run gave up, the run that
    refunds late payments. Any 2xx tells the bank to stop redelivering."""
    delivered_to = await deliver_bank_notice(
        temporal,
        body=await request.body(),
        signature=request.headers.get(SIGNATURE_HEADER, ""),
        secret=settings.bank_callback_secret.get_secret_value(),
        flow=flow,
    )
    return CallbackAccepted(accepted=True, delivered_to=delivered_to)
