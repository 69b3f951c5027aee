"""«Личный кабинет»: the shopper's details (editable), password, sessions, wallet with its
operations, cards and gift cards; and the page an e-mail change link opens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotFoundError
from edge.deps import OptionalUser, SessionCookie, SessionDep, SettingsDep, TemporalDep
from flows.account import pending_email_change
from flows.sso import linked as linked_providers
from models import auth as auth_models
from models.billing import BillingTransaction, TransactionKind
from models.notification import ChannelKind
from services import auth, billing, notification, payment
from web.pages import FORM_PATTERNS, _login_redirect, _page

router = APIRouter(include_in_schema=False)

OPERATIONS_SHOWN = 20
KIND_LABELS = {
    TransactionKind.DEBIT: "Списание",
    TransactionKind.CREDIT: "Пополнение",
    TransactionKind.REFUND: "Возврат",
}


def _operation(row: BillingTransaction) -> dict[str, object]:
    """One line of the operations list: a debit shows as minus."""
    sign = "−" if row.kind == TransactionKind.DEBIT else "+"
    return {
        "at": row.created_at,
        "kind": KIND_LABELS.get(row.kind, str(row.kind)),
        "account": "Кошелёк" if row.wallet_id is not None else "Подарочная карта",
        "sign": sign,
        "amount_kopecks": row.amount_kopecks,
        "balance_after_kopecks": row.balance_after_kopecks,
        "reference": row.reference,
    }


async def _channels(session: AsyncSession, username: str) -> dict[str, bool]:
    """The channels' switches for `account/_channels.html` (all off with no account yet)."""
    try:
        found = await notification.get_channels(session=session, username=username)
    except NotFoundError:
        found = []
    enabled = {channel.kind: channel.enabled for channel in found}
    return {kind.value.lower(): enabled.get(kind, False) for kind in ChannelKind}


@router.get("/account", response_class=HTMLResponse)
async def account_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    user: OptionalUser,
    token: SessionCookie = None,
) -> Response:
    """«Личный кабинет»: the shopper's data and payment means (wallet, cards, gift cards)."""
    if user is None:
        return _login_redirect("/account")
    operations = await billing.transactions(
        session=session, username=user.username, limit=OPERATIONS_SHOWN
    )
    return _page(
        request,
        "auth/account.html",
        user=user,
        wallet=await billing.get_wallet(session=session, username=user.username),
        operations=[_operation(row) for row in reversed(operations)],
        cards=await payment.saved_cards(session=session, username=user.username),
        gift_cards=await billing.gift_cards(session=session, username=user.username),
        sessions=await auth.list_sessions(session=session, username=user.username, token=token),
        pending=await pending_email_change(
            temporal=temporal, settings=settings, username=user.username
        ),
        channels=await _channels(session, user.username),
        linked=await linked_providers(session, request.app.state.sso, user.username),
        patterns=FORM_PATTERNS,
        email_max=auth_models.EMAIL_MAX,
        password_min=auth_models.PASSWORD_MIN,
        password_max=auth_models.PASSWORD_MAX,
    )


@router.get("/account/email/confirm", response_class=HTMLResponse)
async def confirm_email_page(request: Request, user: OptionalUser) -> Response:
    """Where the mailed link leads. Its parameters stay in the URL's fragment (never sent to the
    server, so never logged); the page's «Подтвердить» posts them to POST /auth/email/confirm."""
    return _page(request, "account/confirm_email.html", user=user)
