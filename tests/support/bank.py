"""Driving the bank emulator like its users do: the buyer's pages parsed and posted like a browser
would, payments made through the real adapter, and a small server of our own that catches the
bank's callbacks (fixtures that use these: tests/emulators/conftest.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from adapters.bank import BankCallback, BankPayment, HttpBankGateway, PaymentMethod, parse_callback
from tests.conftest import BankEmulator

SECRET = "bank-callback-test-secret"
RETURN_URL = "http://shop.test/payments/return"
GOOD_CARD = "4111 1111 1111 1111"
DECLINED_CARD = "4000 0000 0000 0002"
NO_FUNDS_CARD = "4000 0000 0000 9995"
THREE_DS_CARD = "4000 0000 0000 3220"
RETRY_TRIES = 4

Bank = BankEmulator


# --- a callback receiver ------------------------------------------------------------------------


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[int]:
    """`app` served by uvicorn in this event loop on 127.0.0.1, on a free port the OS picks at
    bind time, until the block ends; yields the port."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped before it started")
        await asyncio.sleep(0.02)
    try:
        (port,) = {
            sock.getsockname()[1] for listener in server.servers for sock in listener.sockets
        }
        yield port
    finally:
        server.should_exit = True
        await task


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def event(self) -> BankCallback:
        return parse_callback(self.body)


@dataclass
class CallbackReceiver:
    """What the bank's callbacks brought: keeps every POST, answers 200, or 500 for the next
    `fail_next[path]` requests to a path. Served by `callback_receiver()`."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    fail_next: dict[str, int] = field(default_factory=dict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callbacks/{uuid.uuid4().hex}"

    def at(self, url: str, *, answered: int | None = 200) -> list[Received]:
        path = url.split(str(self.port), 1)[1]
        return [r for r in self.received if r.path == path and answered in (None, r.answered)]

    async def wait_for(self, url: str, count: int, within: float = 5.0) -> list[Received]:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.at(url)) >= count)
        return self.at(url)

    async def record(self, request: Request) -> Response:
        path, body = request.url.path, await request.body()
        status = 200
        if self.fail_next.get(path, 0) > 0:
            self.fail_next[path] -= 1
            status = 500
        async with self._changed:
            self.received.append(Received(path, dict(request.headers), body, status))
            self._changed.notify_all()
        return Response(status_code=status)


@asynccontextmanager
async def callback_receiver() -> AsyncIterator[CallbackReceiver]:
    """A CallbackReceiver on a small Starlette app, listening until the block ends."""
    catcher = CallbackReceiver()
    app = Starlette(routes=[Route("/{path:path}", catcher.record, methods=["POST"])])
    async with serving(app) as port:
        catcher.port = port
        yield catcher


# --- driving the hosted pages ----------------------------------------------------------------


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # text → (name, value)


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.links: dict[str, str] = {}
        self.text: list[str] = []
        self._button: tuple[str, str] | None = None
        self._href: str | None = None
        self._inner: list[str] = []
        self._skip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag in ("style", "title"):
            self._skip = True
        elif tag == "form":
            self.forms.append(Form(action=a.get("action", "")))
        elif tag == "input" and self.forms and "name" in a:
            if a.get("type") != "checkbox" or "checked" in a:
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button":
            self._button, self._inner = (a.get("name", ""), a.get("value", "")), []
        elif tag == "a":
            self._href, self._inner = a.get("href", ""), []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip = False
        elif tag == "button" and self._button is not None:
            self.forms[-1].buttons["".join(self._inner).strip()] = self._button
            self._button = None
        elif tag == "a" and self._href is not None:
            self.links["".join(self._inner).strip()] = self._href
            self._href = None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)
            self._inner.append(data)


@dataclass
class Page:
    url: str
    status: int
    html: str
    forms: list[Form]
    links: dict[str, str]
    text: str

    @classmethod
    def of(cls, response: httpx.Response) -> Page:
        parser = _PageParser()
        parser.feed(response.text)
        text = " ".join(" ".join(parser.text).split())
        return cls(
            str(response.url), response.status_code, response.text, parser.forms, parser.links, text
        )

    async def submit(
        self, client: httpx.AsyncClient, values: dict[str, str], *, button: str | None = None
    ) -> Page:
        (form,) = self.forms
        missing = set(values) - set(form.fields) - {"saveCard"}
        assert not missing, f"the form has no fields {missing}"
        data = {**form.fields, **values}
        if button is not None:
            name, value = form.buttons[button]
            if name:
                data[name] = value
        return Page.of(await client.post(urljoin(self.url, form.action), data=data))

    async def follow(self, client: httpx.AsyncClient, link: str) -> Page:
        return Page.of(await client.get(urljoin(self.url, self.links[link])))


async def open_page(client: httpx.AsyncClient, url: str | None) -> Page:
    assert url is not None
    return Page.of(await client.get(url))


async def pay_by_card(
    client: httpx.AsyncClient,
    payment: BankPayment,
    number: str,
    *,
    cvc: str = "123",
    expiry: str = "12/30",
) -> Page:
    form = await open_page(client, payment.confirmation_url)
    assert form.status == 200
    assert "Оплатить" in form.forms[0].buttons
    return await form.submit(
        client, {"cardNumber": number, "expiry": expiry, "cvc": cvc}, button="Оплатить"
    )


def key() -> str:
    return f"test-{uuid.uuid4().hex}"


async def new_payment(
    gateway: HttpBankGateway,
    callback_url: str,
    *,
    amount: int = 1_000_00,
    method: PaymentMethod = PaymentMethod.CARD,
    bind_card: bool = False,
    customer_ref: str | None = "user-1",
) -> BankPayment:
    return await gateway.create_payment(
        amount_kopecks=amount,
        idempotency_key=key(),
        description="Заказ №42 в Shopflow",
        return_url=RETURN_URL,
        callback_url=callback_url,
        method=method,
        bind_card=bind_card,
        customer_ref=customer_ref,
    )


async def deliveries(
    admin: httpx.AsyncClient, payment_id: str, *, at_least: int = 0
) -> list[dict[str, Any]]:
    """The emulator's delivery log for a payment, once it holds `at_least` entries (or 5 s)."""
    for _ in range(50):
        response = await admin.get("/admin/callbacks/log", params={"paymentId": payment_id})
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        if len(result) >= at_least:
            break
        await asyncio.sleep(0.1)
    return result


async def card_on_bank_page(buyer: httpx.AsyncClient, url: str, number: str) -> Page:
    """The bank's card form at `url` filled with `number` (any future expiry, any CVC) and sent."""
    form = await open_page(buyer, url)
    return await form.submit(
        buyer, {"cardNumber": number, "expiry": "12/30", "cvc": "123"}, button="Оплатить"
    )
