"""Buying a gift card and topping up the wallet (spec: «Оформление подарочной карты», «Пополнение
кошелька»; the spec leaves the contracts open, defined here). Each purchase is a workflow run; its
id is the purchase's id.

    POST /purchase/giftcard     {granteeName, granteeEmail, amount, design}   start
    POST /purchase/topup        {amount}                                       start
    GET  /purchase/{id}/state
    POST /purchase/{id}/pay     {method, tokenId?, saveCard?}                 «Оплатить»
    POST /purchase/{id}/leave-bank-page
"""

from __future__ import annotations

from fastapi import APIRouter

from core.money import to_kopecks
from edge.deps import CurrentUser, PurchasesDep
from flows.views import PurchasePublic, purchase_public
from models.payloads_purchase import GiftCardOrder
from models.purchase import GiftCardBuyRequest, PayBody, TopUpRequest

router = APIRouter(prefix="/purchase", tags=["purchase"])
ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Invalid request"},
    401: {"description": "Not authorized"},
    404: {"description": "No such purchase of this shopper"},
    409: {"description": "Not possible in the purchase's current step"},
}


@router.post("/giftcard", response_model=PurchasePublic, responses=ERRORS)
async def buy_gift_card(
    body: GiftCardBuyRequest, user: CurrentUser, purchases: PurchasesDep
) -> PurchasePublic:
    """Start buying a gift card for someone: then «Оплатить»."""
    order = GiftCardOrder(body.grantee_name, body.grantee_email, body.design)
    state = await purchases.buy_gift_card(user.username, to_kopecks(body.amount), order)
    return purchase_public(state)


@router.post("/topup", response_model=PurchasePublic, responses=ERRORS)
async def top_up(body: TopUpRequest, user: CurrentUser, purchases: PurchasesDep) -> PurchasePublic:
    """Start topping up the shopper's wallet: then «Оплатить» by bank card or СБП."""
    return purchase_public(await purchases.top_up(user.username, to_kopecks(body.amount)))


@router.get("/{purchase_id}/state", response_model=PurchasePublic, responses=ERRORS)
async def state(purchase_id: str, user: CurrentUser, purchases: PurchasesDep) -> PurchasePublic:
    return purchase_public(await purchases.state(user.username, purchase_id))


@router.post("/{purchase_id}/pay", response_model=PurchasePublic, responses=ERRORS)
async def pay(
    purchase_id: str, body: PayBody, user: CurrentUser, purchases: PurchasesDep
) -> PurchasePublic:
    """«Оплатить»: paid and handed over (DONE), declined (pay again), or the bank's page
    (`paymentUrl`, step AWAITING_BANK)."""
    return purchase_public(await purchases.pay(user.username, purchase_id, body.request()))


@router.post("/{purchase_id}/leave-bank-page", response_model=PurchasePublic, responses=ERRORS)
async def leave_bank_page(
    purchase_id: str, user: CurrentUser, purchases: PurchasesDep
) -> PurchasePublic:
    """«Выбрать другой способ оплаты» instead of finishing on the bank's page."""
    return purchase_public(await purchases.leave_bank_page(user.username, purchase_id))
