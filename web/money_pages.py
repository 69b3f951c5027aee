"""The pages of the spec's last two scenarios: «Купить подарочную карту» (the form with the
postcards, then «Оплатить») and «Пополнить баланс кошелька» (its form is in «Личный кабинет»),
each purchase's payment page, its return from the bank, and the postcards' pictures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.errors import NotFoundError
from core.money import format_roubles
from edge.deps import OptionalUser, PurchasesDep, SessionDep
from flows.views import purchase_public
from models import auth as auth_models
from models.payloads_purchase import PURCHASE_ENDED_STEPS, PURCHASE_METHODS, PurchaseState
from models.purchase import (
    GIFT_CARD_MAX_KOPECKS,
    GIFT_CARD_MIN_KOPECKS,
    POSTCARDS,
    TOPUP_MAX_KOPECKS,
    TOPUP_MIN_KOPECKS,
)
from services import billing, payment
from web.pages import _login_redirect, _page, templates
from web.postcards import postcard_svg

router = APIRouter(include_in_schema=False)
# The top-up form is part of «Личный кабинет» (payment/topup_form.html, included there).
templates.env.globals["topup_min_roubles"] = TOPUP_MIN_KOPECKS // 100
templates.env.globals["topup_max_roubles"] = TOPUP_MAX_KOPECKS // 100


def purchase_return_target(state: PurchaseState) -> str | None:
    """Where the page after the bank's page sends the buyer once the attempt is decided: the
    purchase's page (done, failed, or declined with the reason); None while still working. The
    same rule as `static/purchase.js`."""
    if state.step in PURCHASE_ENDED_STEPS or (
        state.step == "CHOOSING_PAYMENT" and state.last_error
    ):
        return f"/purchase/{state.purchase_id}"
    return None


@router.get("/giftcard/buy", response_class=HTMLResponse)
async def gift_card_form(request: Request, user: OptionalUser) -> Response:
    """«Купить подарочную карту»: grantee, e-mail, amount and a postcard."""
    if user is None:
        return _login_redirect("/giftcard/buy")
    return _page(
        request,
        "payment/giftcard_buy.html",
        user=user,
        postcards=POSTCARDS,
        patterns={"name": auth_models.NAME_PATTERN, "email": auth_models.EMAIL_PATTERN},
        email_max=auth_models.EMAIL_MAX,
        min_roubles=GIFT_CARD_MIN_KOPECKS // 100,
        max_roubles=GIFT_CARD_MAX_KOPECKS // 100,
    )


@router.get("/giftcard/postcards/{design}.svg")
async def postcard(design: str) -> Response:
    """A postcard's picture (the form's previews, the grantee's mail)."""
    if design not in POSTCARDS:
        raise NotFoundError("Такой открытки нет")
    return Response(
        postcard_svg(design),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def _purchase_page(
    request: Request,
    session: SessionDep,
    purchases: PurchasesDep,
    user: OptionalUser,
    purchase_id: str,
    template: str,
) -> Response:
    if user is None:
        return _login_redirect(f"/purchase/{purchase_id}")
    state = await purchases.state(user.username, purchase_id)
    if template == "payment/purchase_return.html":
        target = purchase_return_target(state)
        if target is not None:
            return RedirectResponse(target, status_code=303)
    return _page(
        request,
        template,
        user=user,
        purchase=purchase_public(state),
        methods=PURCHASE_METHODS[state.kind],
        wallet=await billing.get_wallet(session=session, username=user.username),
        cards=await payment.saved_cards(session=session, username=user.username),
        postcard_title=POSTCARDS.get(state.design, ""),
        amount_text=format_roubles(state.amount_kopecks),
    )


@router.get("/purchase/{purchase_id}", response_class=HTMLResponse)
async def purchase_page(
    request: Request,
    session: SessionDep,
    purchases: PurchasesDep,
    user: OptionalUser,
    purchase_id: str,
) -> Response:
    """The purchase's «Оплатить», then its outcome: the card sent or the wallet's new balance."""
    return await _purchase_page(
        request, session, purchases, user, purchase_id, "payment/purchase.html"
    )


@router.get("/purchase/{purchase_id}/return", response_class=HTMLResponse)
async def purchase_return(
    request: Request,
    session: SessionDep,
    purchases: PurchasesDep,
    user: OptionalUser,
    purchase_id: str,
) -> Response:
    """Where the bank sends the buyer back («Проверяем оплату…»)."""
    return await _purchase_page(
        request, session, purchases, user, purchase_id, "payment/purchase_return.html"
    )
