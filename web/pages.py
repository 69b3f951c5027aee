"""The web front's pages (Russian, with the spec's labels)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import ConflictError, DomainError, TooManyAttemptsError, ValidationError
from core.money import format_roubles, to_kopecks
from core.timeutil import to_moscow
from edge.deps import (
    CatalogueDep,
    CheckoutsDep,
    ClientAddress,
    ConnectionDep,
    OptionalUser,
    SessionCookie,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    TemporalDep,
)
from edge.errors import error_headers
from edge.redirects import safe_path
from edge.session import clear_session_cookie
from flows.catalogue import order_lines
from flows.checkout import Checkouts
from flows.registration import registration_progress
from flows.views import checkout_public
from models import auth as auth_models
from models.auth import User
from models.base import Id
from models.order import ItemRequest, OrderId, ProductRef
from models.payloads import ENDED_STEPS, CheckoutState
from models.payment import card_mask
from services import auth, billing, delivery, order, payment, store, store_browse
from web.images import product_svg

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.filters["roubles"] = format_roubles
templates.env.filters["rub"] = lambda amount: format_roubles(to_kopecks(amount))
templates.env.globals["ended_steps"] = sorted(ENDED_STEPS)
templates.env.filters["moscow"] = lambda moment: to_moscow(moment).strftime("%d.%m.%Y %H:%M")
templates.env.filters["card_mask"] = card_mask

router = APIRouter(include_in_schema=False)


# The inputs' `pattern` attributes: the browser checks what the server's models check.
FORM_PATTERNS = {
    "username": auth_models.USERNAME_PATTERN,
    "name": auth_models.NAME_PATTERN,
    "email": auth_models.EMAIL_PATTERN,
    "phone": auth_models.PHONE_PATTERN,
}


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    context.setdefault("user", None)
    context["dev"] = settings.environment == "dev"
    context["mailbox_url"] = settings.mailbox_url
    context["temporal_ui_url"] = settings.temporal_ui_url
    context["support_email"] = settings.support_email
    context["sso_providers"] = request.app.state.sso.titles()  # «Войти через …» buttons
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def render_error_page(request: Request, status: int, message: str) -> Response:
    return _page(request, "error.html", status_code=status, status=status, message=message)


def _login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={next_url}", status_code=303)


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    request: Request, user: OptionalUser, catalogue: CatalogueDep, q: str = "", page: int = 1
) -> Response:
    """Product cards matching the query; a bad query is explained on the page, not as an error."""
    try:
        results = await catalogue.search(q, page, 20)
    except ValidationError as exc:
        return _page(request, "store/search.html", user=user, query=q, problem=exc.message)
    return _page(request, "store/search.html", user=user, query=q, results=results)


async def _product(
    request: Request,
    session: AsyncSession,
    user: User | None,
    product_id: int,
    problem: str = "",
    status: int = 200,
) -> Response:
    product = await store.get_product(session=session, product_id=product_id)
    conn = await session.connection()
    card = (await store.cards(conn=conn, product_ids=[product_id]))[0]
    category = await store_browse.product_category(conn=conn, product_id=product_id)
    return _page(
        request,
        "store/product.html",
        status_code=status,
        user=user,
        product=product,
        card=card,
        category=category,
        problem=problem,
        added=request.query_params.get("added") == "1",
    )


@router.get("/product/{product_id}", response_class=HTMLResponse)
async def product_page(
    request: Request, user: OptionalUser, session: SessionDep, product_id: Id
) -> Response:
    """The product's description, availability and «Добавить в корзину»."""
    return await _product(request, session, user, product_id)


@router.post("/cart/add")
async def add_to_cart(
    request: Request,
    user: OptionalUser,
    session: SessionDep,
    product_id: Annotated[Id, Form(alias="productId")],
) -> Response:
    """«Добавить в корзину»: a new order with this item, or one more in the open one."""
    if user is None:
        return _login_redirect(f"/product/{product_id}")
    try:
        wanted = [ItemRequest(product=ProductRef(id=product_id), quantity=1)]
        (line,) = await order_lines(await session.connection(), wanted)
        await order.add_to_cart(session=session, username=user.username, line=line)
    except ConflictError as exc:
        return await _product(request, session, user, product_id, exc.message, status=409)
    return RedirectResponse(f"/product/{product_id}?added=1", status_code=303)


@router.get("/cart", response_class=HTMLResponse)
async def cart_page(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """«Моя корзина»: the open order's positions, totals and «Оформить заказ»."""
    if user is None:
        return _login_redirect("/cart")
    cart = await order.open_order(session=session, username=user.username)
    return _page(
        request, "order/cart.html", user=user, cart=None if cart is None else cart.public()
    )


async def _checkout_of(
    checkouts: Checkouts, user: User, order_id: str
) -> tuple[dict[str, Any], CheckoutState] | None:
    """The shopper's order (404 for anyone else's) and its checkout's state as the pages show
    them; None if the order never went to checkout. With no worker to answer the query, the
    page says 503 after the bounded wait instead of hanging."""
    view, state = await checkouts.find(user.username, order_id)
    if state is None:
        return None
    return {"user": user, "order": view.public(), "checkout": checkout_public(state)}, state


def return_target(state: CheckoutState) -> str | None:
    """Where the page after the bank's page sends the shopper once the attempt is decided: the
    result page (paid, failed, or declined with the reason and the two ways on); None while the
    bank or the checkout is still working. The same rule as
    `static/payment_return.js: returnTarget`."""
    base = f"/checkout/{state.order_id}"
    if state.step in ENDED_STEPS:
        return f"{base}/result"
    if state.step == "CHOOSING_DELIVERY":
        return f"{base}/result" if state.last_error else base
    return None


@router.get("/checkout/{order_id}", response_class=HTMLResponse)
async def checkout_page(
    request: Request,
    session: SessionDep,
    checkouts: CheckoutsDep,
    user: OptionalUser,
    order_id: OrderId,
) -> Response:
    """«Оформление заказа»: delivery choice, then «Оплатить заказ» and the payment method."""
    if user is None:
        return _login_redirect(f"/checkout/{order_id}")
    found = await _checkout_of(checkouts, user, order_id)
    if found is None:
        return RedirectResponse("/cart", status_code=303)
    return _page(
        request,
        "order/checkout.html",
        **found[0],
        wallet=await billing.get_wallet(session=session, username=user.username),
        points=await delivery.list_pickup_points(session=session),
        cards=await payment.saved_cards(session=session, username=user.username),
        gift_cards=await billing.gift_cards(session=session, username=user.username),
    )


@router.get("/checkout/{order_id}/result", response_class=HTMLResponse)
async def checkout_result(
    request: Request,
    checkouts: CheckoutsDep,
    user: OptionalUser,
    order_id: OrderId,
) -> Response:
    """The payment result: «Оплачено» with the order, or the error and the two ways on."""
    if user is None:
        return _login_redirect(f"/checkout/{order_id}/result")
    found = await _checkout_of(checkouts, user, order_id)
    if found is None:
        return RedirectResponse("/cart", status_code=303)
    return _page(request, "order/result.html", **found[0])


@router.get("/checkout/{order_id}/return", response_class=HTMLResponse)
async def checkout_return(
    request: Request,
    checkouts: CheckoutsDep,
    user: OptionalUser,
    order_id: OrderId,
) -> Response:
    """Where the bank sends the shopper back («Проверяем оплату…»): the page waits for the
    checkout to learn the bank's outcome, then moves on to the result."""
    if user is None:
        return _login_redirect(f"/checkout/{order_id}/return")
    found = await _checkout_of(checkouts, user, order_id)
    if found is None:
        return RedirectResponse("/cart", status_code=303)
    target = return_target(found[1])
    if target is not None:
        return RedirectResponse(target, status_code=303)
    return _page(request, "order/return.html", **found[0])


@router.get("/register", response_class=HTMLResponse)
async def register_page(request: Request, user: OptionalUser) -> Response:
    return _page(
        request,
        "auth/register.html",
        user=user,
        patterns=FORM_PATTERNS,
        email_max=auth_models.EMAIL_MAX,
        password_min=auth_models.PASSWORD_MIN,
        password_max=auth_models.PASSWORD_MAX,
    )


@router.get("/register/done", response_class=HTMLResponse)
async def register_done(request: Request, temporal: TemporalDep, username: str = "") -> Response:
    """The registration's outcome as its workflow tells it (no personal data on this page)."""
    progress = await registration_progress(temporal=temporal, username=username)
    return _page(
        request,
        "auth/register_done.html",
        username=username,
        status=progress.status,
        step=progress.step,
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    # The login form's script goes to data-success once logged in: only ever a path of the store.
    return _page(request, "auth/login.html", user=user, next=safe_path(next))


@router.get("/logout")
async def logout_link() -> Response:
    """Logging out is a POST (the header's «Выйти» form): a GET, which any other site can make
    the browser send, ends nothing."""
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
async def logout_page(
    session: SessionDep, settings: SettingsDep, token: SessionCookie = None
) -> Response:
    if token:
        await auth.logout(session=session, token=token)
    response = RedirectResponse("/?loggedOut=1", status_code=303)
    clear_session_cookie(response, settings)
    return response


@router.get("/giftcard/activate", response_class=HTMLResponse)
async def activate_gift_card_page(request: Request, user: OptionalUser) -> Response:
    """«Активировать подарочную карту»: the code field and «активировать»."""
    if user is None:
        return _login_redirect("/giftcard/activate")
    return _page(request, "payment/activate.html", user=user, code="")


@router.post("/giftcard/activate", response_class=HTMLResponse)
async def activate_gift_card(
    request: Request,
    address: ClientAddress,
    sessions: SessionFactoryDep,
    settings: SettingsDep,
    user: OptionalUser,
    code: Annotated[str, Form(alias="activationCode")] = "",
) -> Response:
    """Bind the card to the shopper and show its balance, or say what is wrong with the code
    (past the limit on wrong codes: 429 with Retry-After and when to try again)."""
    if user is None:
        return _login_redirect("/giftcard/activate")
    try:
        card = await billing.activate_gift_card_limited(
            sessions=sessions,
            username=user.username,
            address=address,
            code=code,
            limit=billing.activation_limit(settings),
        )
    except DomainError as exc:
        response = _page(
            request,
            "payment/activate.html",
            status_code=exc.http_status,
            user=user,
            code=code,
            problem=exc.message,
            limited=isinstance(exc, TooManyAttemptsError),
        )
        response.headers.update(error_headers(exc))
        return response
    return _page(request, "payment/activate.html", user=user, code="", card=card)


@router.get("/store/images/{product_id}.svg", responses={400: {}, 404: {}})
async def image(conn: ConnectionDep, product_id: Id) -> Response:
    """The product's picture, drawn by our own code from its category and name."""
    name, category_slug = await store.product_label(conn=conn, product_id=product_id)
    return Response(
        product_svg(product_id=product_id, name=name, category_slug=category_slug),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links: the store's icon is an SVG."""
    return RedirectResponse("/static/favicon.svg", status_code=301)
