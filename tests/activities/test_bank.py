"""The bank gateway against the real bank emulator process: hosted card and СБП pages driven like a
browser would (parse the form, post it), signed callbacks caught by a small receiver of our own,
and the callback faults (retries, duplicates, reordering, holding back) a PaymentWorkflow must
survive. The adapter's parsing and error mapping are also checked on a mock transport."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from adapters.bank import (
    BankAnswerError,
    BankCallback,
    BankGateway,
    BankPayment,
    FakeBankGateway,
    HttpBankGateway,
    PaymentMethod,
    PaymentStatus,
    callback_signature,
    parse_callback,
    verify_callback,
)
from core.errors import ConflictError, NotFoundError, PaymentDeclinedError, ValidationError
from tests.conftest import BankEmulator, bank_process, free_ports

SECRET = "bank-callback-test-secret"
RETURN_URL = "http://shop.test/payments/return"
GOOD_CARD = "4111 1111 1111 1111"
DECLINED_CARD = "4000 0000 0000 0002"
NO_FUNDS_CARD = "4000 0000 0000 9995"
THREE_DS_CARD = "4000 0000 0000 3220"
RETRY_TRIES = 4


# --- the emulator and a callback receiver -------------------------------------------------------


Bank = BankEmulator


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    """The real bank emulator process; retries are quick so the tests stay short."""
    with bank_process(
        tmp_path_factory.mktemp("bank"), secret=SECRET, retry_ms=100, attempts=RETRY_TRIES
    ) as running:
        yield running


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
    """A bare HTTP/1.1 endpoint on asyncio streams: keeps every POST, answers 200, or 500 for the
    next `fail_next[path]` requests to a path."""

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

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            _method, path, _version = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = 200
            if self.fail_next.get(path, 0) > 0:
                self.fail_next[path] -= 1
                status = 500
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
            async with self._changed:
                self.received.append(Received(path, headers, body, status))
                self._changed.notify_all()
        finally:
            writer.close()


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[CallbackReceiver]:
    catcher = CallbackReceiver()
    server = await asyncio.start_server(catcher.handle, "127.0.0.1", 0)
    catcher.port = server.sockets[0].getsockname()[1]
    async with server:
        yield catcher
        server.close()


@pytest.fixture
async def admin(bank: Bank) -> AsyncIterator[httpx.AsyncClient]:
    """A plain client on the emulator; callback settings, holds and the log reset around a test."""
    async with httpx.AsyncClient(base_url=bank.url, timeout=10) as client:
        (await client.delete("/admin/callbacks")).raise_for_status()
        yield client
        (await client.delete("/admin/callbacks")).raise_for_status()


@pytest.fixture
async def gateway(bank: Bank, admin: httpx.AsyncClient) -> AsyncIterator[HttpBankGateway]:
    bank_gateway = HttpBankGateway(bank.url, timeout=5.0)
    yield bank_gateway
    await bank_gateway.aclose()


@pytest.fixture
async def buyer() -> AsyncIterator[httpx.AsyncClient]:
    """The buyer's browser: follows the bank's redirects, knows nothing of the API."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as client:
        yield client


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


# --- cards -----------------------------------------------------------------------------------


async def test_card_payment_succeeds_and_a_signed_callback_arrives(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, amount=1_234_56)
    assert payment.status is PaymentStatus.PENDING
    assert payment.confirmation_url is not None
    assert payment.payment_id in payment.confirmation_url

    form_page = await open_page(buyer, payment.confirmation_url)
    assert "Оплата картой" in form_page.text
    assert "1 234,56 ₽" in form_page.text
    assert "Заказ №42 в Shopflow" in form_page.text
    assert {"cardNumber", "expiry", "cvc"} <= set(form_page.forms[0].fields)
    assert "Сохранить карту" not in form_page.text  # not asked to bind

    result = await form_page.submit(
        buyer, {"cardNumber": GOOD_CARD, "expiry": "12/30", "cvc": "123"}, button="Оплатить"
    )
    assert "Оплата прошла успешно" in result.text
    assert result.links["Вернуться в магазин"] == f"{RETURN_URL}?paymentId={payment.payment_id}"
    assert f"url={RETURN_URL}?paymentId={payment.payment_id}" in result.html  # auto-redirect

    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert verify_callback(delivery.body, delivery.headers["x-bank-signature"], SECRET)
    event = delivery.event
    assert (event.payment_id, event.status, event.amount_kopecks) == (
        payment.payment_id,
        PaymentStatus.SUCCEEDED,
        1_234_56,
    )
    assert event.event_id.startswith("evt_")
    assert event.occurred_at.tzinfo is not None

    polled = await gateway.get_payment(payment.payment_id)
    assert polled.status is PaymentStatus.SUCCEEDED
    assert polled.status.paid
    assert polled.card is None
    assert polled.decline_reason is None
    assert polled.method is PaymentMethod.CARD

    # A second press of «Оплатить» (a stale tab) shows the result again and charges nothing more.
    again = await form_page.submit(
        buyer, {"cardNumber": GOOD_CARD, "expiry": "12/30", "cvc": "123"}, button="Оплатить"
    )
    assert "Оплата прошла успешно" in again.text
    await asyncio.sleep(0.2)
    assert len(receiver.at(callback_url)) == 1
    assert len(await deliveries(admin, payment.payment_id)) == 1


@pytest.mark.parametrize(
    ("card", "reason"),
    [(DECLINED_CARD, "Банк отклонил операцию"), (NO_FUNDS_CARD, "Недостаточно средств на карте")],
)
async def test_declined_cards(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    card: str,
    reason: str,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, bind_card=True)

    result = await pay_by_card(buyer, payment, card)

    assert "Оплата не прошла" in result.text
    assert reason in result.text
    assert result.links["Вернуться в магазин"].endswith(f"paymentId={payment.payment_id}")
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is PaymentStatus.DECLINED
    polled = await gateway.get_payment(payment.payment_id)
    assert polled.status is PaymentStatus.DECLINED
    assert polled.decline_reason == reason
    assert polled.card is None  # a declined card is never saved
    with pytest.raises(PaymentDeclinedError, match=reason):
        polled.raise_if_declined()
    with pytest.raises(ConflictError):
        await gateway.refund(payment.payment_id, amount_kopecks=100, idempotency_key=key())


async def test_a_mistyped_card_is_a_form_error_and_charges_nothing(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url)
    mistakes = [
        ({"cardNumber": "4111 1111 1111 1112"}, "Неверный номер карты"),  # Luhn
        ({"cardNumber": "4111 1111"}, "Введите номер карты полностью"),
        ({"cardNumber": "4111 1111 1111 111x"}, "Введите номер карты полностью"),
        ({"expiry": "13/30"}, "ММ/ГГ"),
        ({"expiry": "1230"}, "ММ/ГГ"),
        ({"expiry": "01/20"}, "Срок действия карты истёк"),
        ({"cvc": "12"}, "CVC"),
        ({"cvc": "abc"}, "CVC"),
    ]
    form_page = await open_page(buyer, payment.confirmation_url)
    for change, error in mistakes:
        values = {"cardNumber": GOOD_CARD, "expiry": "12/30", "cvc": "123", **change}
        page = await form_page.submit(buyer, values, button="Оплатить")
        assert page.status == 400, change
        assert error in page.text, (change, page.text)
        assert "Оплатить" in page.forms[0].buttons  # the form again, to correct
        assert "1111 1111" not in page.html
        assert "111x" not in page.html

    assert (await gateway.get_payment(payment.payment_id)).status is PaymentStatus.PENDING
    assert await deliveries(admin, payment.payment_id) == []

    result = await form_page.submit(
        buyer, {"cardNumber": "4242-4242-4242-4242", "expiry": " 12 / 30 ", "cvc": "123"}
    )
    assert "Оплата прошла успешно" in result.text  # any other Luhn-valid number pays
    await receiver.wait_for(callback_url, 1)


@pytest.mark.parametrize(
    ("code", "status"), [("1234", PaymentStatus.SUCCEEDED), ("4321", PaymentStatus.DECLINED)]
)
async def test_3ds_card_asks_for_a_code(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
    code: str,
    status: PaymentStatus,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url)

    challenge = await pay_by_card(buyer, payment, THREE_DS_CARD)

    assert "3-D Secure" in challenge.text
    assert "400000******3220" in challenge.text
    assert challenge.url.endswith(f"/pay/{payment.payment_id}/3ds")
    assert (await gateway.get_payment(payment.payment_id)).status is PaymentStatus.PENDING
    assert await deliveries(admin, payment.payment_id) == []

    result = await challenge.submit(buyer, {"code": code}, button="Подтвердить")

    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is status
    polled = await gateway.get_payment(payment.payment_id)
    assert polled.status is status
    if status is PaymentStatus.SUCCEEDED:
        assert "Оплата прошла успешно" in result.text
    else:
        assert "Оплата не прошла" in result.text
        assert "3-D Secure" in result.text
        assert polled.decline_reason is not None
        assert "3-D Secure" in polled.decline_reason


# --- СБП ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("button", "status", "heading"),
    [
        ("Подтвердить", PaymentStatus.SUCCEEDED, "Оплата прошла успешно"),
        ("Отклонить", PaymentStatus.DECLINED, "Оплата не прошла"),
    ],
)
async def test_sbp_payment_is_decided_in_the_bank_app(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    button: str,
    status: PaymentStatus,
    heading: str,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, method=PaymentMethod.SBP, amount=599_00)
    assert payment.method is PaymentMethod.SBP

    qr_page = await open_page(buyer, payment.confirmation_url)
    assert "Оплата через СБП" in qr_page.text
    assert "599,00 ₽" in qr_page.text
    assert f"https://qr.nspk.emulator/{payment.payment_id}" in qr_page.text
    svg = re.search(r"<svg.*?</svg>", qr_page.html, re.S)
    assert svg is not None
    assert svg.group().count("h1v1h-1z") > 100
    assert svg.group() in (await open_page(buyer, payment.confirmation_url)).html  # deterministic
    assert not qr_page.forms  # no card form for СБП

    app_page = await qr_page.follow(buyer, "Открыть приложение банка")
    assert set(app_page.forms[0].buttons) == {"Подтвердить", "Отклонить"}
    result = await app_page.submit(buyer, {}, button=button)

    assert heading in result.text
    assert result.links["Вернуться в магазин"].endswith(f"paymentId={payment.payment_id}")
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is status
    polled = await gateway.get_payment(payment.payment_id)
    assert polled.status is status
    assert polled.card is None
    # Both pages show the result from now on, not the QR code or the buttons again.
    assert heading in (await open_page(buyer, payment.confirmation_url)).text
    app_again = await qr_page.follow(buyer, "Открыть приложение банка")
    assert heading in app_again.text
    assert not app_again.forms


# --- saved cards ------------------------------------------------------------------------------


async def test_a_saved_card_is_charged_by_its_token(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    first = await new_payment(gateway, receiver.url(), bind_card=True, customer_ref="user-7")
    form_page = await open_page(buyer, first.confirmation_url)
    assert "Сохранить карту" in form_page.text
    assert form_page.forms[0].fields.get("saveCard")  # checked by default
    await form_page.submit(buyer, {"cardNumber": GOOD_CARD, "expiry": "11/31", "cvc": "321"})

    paid = await gateway.get_payment(first.payment_id)
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.card is not None
    card = paid.card
    assert card.token.startswith("tok_")
    assert (card.masked, card.expiry) == ("411111******1111", "11/31")

    callback_url = receiver.url()
    charge_key = key()
    charged = await gateway.charge_token(
        card.token,
        amount_kopecks=250_00,
        idempotency_key=charge_key,
        description="Пополнение кошелька",
        callback_url=callback_url,
    )
    assert charged.status is PaymentStatus.SUCCEEDED
    assert charged.card == card
    assert charged.payment_id != first.payment_id
    assert charged.confirmation_url is None
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.payment_id == charged.payment_id

    replay = await gateway.charge_token(
        card.token,
        amount_kopecks=250_00,
        idempotency_key=charge_key,
        description="Пополнение кошелька",
        callback_url=callback_url,
    )
    assert replay == charged
    with pytest.raises(ConflictError):
        await gateway.charge_token(
            card.token,
            amount_kopecks=300_00,
            idempotency_key=charge_key,
            description="Пополнение кошелька",
            callback_url=callback_url,
        )
    with pytest.raises(NotFoundError):
        await gateway.charge_token(
            "tok_nonexistent", amount_kopecks=100, idempotency_key=key(), description="x"
        )
    await asyncio.sleep(0.2)
    assert len(receiver.at(callback_url)) == 1  # the replay charged and announced nothing
    assert len(await deliveries(admin, charged.payment_id)) == 1

    # The same card saved again for the same customer keeps its token.
    second = await new_payment(gateway, receiver.url(), bind_card=True, customer_ref="user-7")
    await pay_by_card(buyer, second, GOOD_CARD, expiry="11/31")
    assert (await gateway.get_payment(second.payment_id)).card == card

    # Unticking «Сохранить карту» saves nothing.
    third = await new_payment(gateway, receiver.url(), bind_card=True, customer_ref="user-8")
    form_page = await open_page(buyer, third.confirmation_url)
    form_page.forms[0].fields.pop("saveCard")
    await form_page.submit(buyer, {"cardNumber": GOOD_CARD, "expiry": "11/31", "cvc": "321"})
    third_paid = await gateway.get_payment(third.payment_id)
    assert third_paid.status is PaymentStatus.SUCCEEDED
    assert third_paid.card is None


@pytest.mark.parametrize(
    ("number", "status", "reason"),
    [
        (DECLINED_CARD, PaymentStatus.DECLINED, "Банк отклонил операцию"),
        (NO_FUNDS_CARD, PaymentStatus.DECLINED, "Недостаточно средств на карте"),
        (THREE_DS_CARD, PaymentStatus.SUCCEEDED, None),  # no buyer to ask: no 3-D Secure
    ],
)
async def test_saved_cards_keep_their_behaviour(
    gateway: HttpBankGateway,
    admin: httpx.AsyncClient,
    receiver: CallbackReceiver,
    number: str,
    status: PaymentStatus,
    reason: str | None,
) -> None:
    # A card saved in an earlier session: a declined payment never saves one.
    seeded = await admin.post(
        "/admin/tokens", json={"cardNumber": number, "expiry": "12/30", "customerRef": "user-9"}
    )
    seeded.raise_for_status()
    token = seeded.json()["token"]
    callback_url = receiver.url()

    charged = await gateway.charge_token(
        token,
        amount_kopecks=10_00,
        idempotency_key=key(),
        description="Оплата заказа",
        callback_url=callback_url,
    )

    assert charged.status is status
    assert charged.decline_reason == reason
    assert charged.card is not None
    assert charged.card.token == token
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is status
    if reason:
        with pytest.raises(PaymentDeclinedError, match=reason):
            charged.raise_if_declined()


# --- idempotency and refunds -----------------------------------------------------------------


async def test_create_is_idempotent_by_key(
    gateway: HttpBankGateway, receiver: CallbackReceiver
) -> None:
    callback_url = receiver.url()
    request: dict[str, Any] = {
        "amount_kopecks": 700_00,
        "idempotency_key": key(),
        "description": "Подарочная карта",
        "return_url": RETURN_URL,
        "callback_url": callback_url,
        "method": PaymentMethod.CARD,
    }
    first = await gateway.create_payment(**request)
    assert await gateway.create_payment(**request) == first

    # Retried at once from many places (an activity retried while the first try is in flight).
    racing = {**request, "idempotency_key": key()}
    answers = await asyncio.gather(*(gateway.create_payment(**racing) for _ in range(8)))
    assert len({answer.payment_id for answer in answers}) == 1
    assert answers[0].payment_id != first.payment_id

    for change in ({"amount_kopecks": 701_00}, {"method": PaymentMethod.SBP}, {"bind_card": True}):
        with pytest.raises(ConflictError, match="идемпотентности"):
            await gateway.create_payment(**{**request, **change})


async def test_refunds_partial_full_and_beyond(
    gateway: HttpBankGateway, buyer: httpx.AsyncClient, receiver: CallbackReceiver
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, amount=1_000_00)
    with pytest.raises(ConflictError, match="не оплачен"):
        await gateway.refund(payment.payment_id, amount_kopecks=100, idempotency_key=key())
    await pay_by_card(buyer, payment, GOOD_CARD)
    pid = payment.payment_id

    first_key = key()
    partial = await gateway.refund(pid, amount_kopecks=300_00, idempotency_key=first_key)
    assert partial.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert (partial.amount_kopecks, partial.refunded_kopecks) == (300_00, 300_00)
    assert await gateway.refund(pid, amount_kopecks=300_00, idempotency_key=first_key) == partial
    with pytest.raises(ConflictError):
        await gateway.refund(pid, amount_kopecks=200_00, idempotency_key=first_key)
    with pytest.raises(ConflictError, match="больше остатка"):
        await gateway.refund(pid, amount_kopecks=700_01, idempotency_key=key())
    assert (await gateway.get_payment(pid)).refunded_kopecks == 300_00

    full = await gateway.refund(pid, amount_kopecks=700_00, idempotency_key=key())
    assert full.payment_status is PaymentStatus.REFUNDED
    assert full.refunded_kopecks == 1_000_00
    assert full.refund_id != partial.refund_id
    with pytest.raises(ConflictError):
        await gateway.refund(pid, amount_kopecks=1, idempotency_key=key())
    with pytest.raises(ValidationError):
        await gateway.refund(pid, amount_kopecks=0, idempotency_key=key())
    with pytest.raises(NotFoundError):
        await gateway.refund("pay_missing", amount_kopecks=100, idempotency_key=key())

    polled = await gateway.get_payment(pid)
    assert (polled.status, polled.refunded_kopecks) == (PaymentStatus.REFUNDED, 1_000_00)
    events = [r.event for r in await receiver.wait_for(callback_url, 3)]
    assert sorted(e.status for e in events) == sorted(
        ["SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED"]
    )
    assert len({e.event_id for e in events}) == 3


# --- callback faults --------------------------------------------------------------------------


async def test_callbacks_are_retried_until_answered_and_then_given_up(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    callback_url = receiver.url()
    receiver.fail_next[callback_url.split(str(receiver.port), 1)[1]] = 2
    payment = await new_payment(gateway, callback_url)
    await pay_by_card(buyer, payment, GOOD_CARD)

    (delivered,) = await receiver.wait_for(callback_url, 1)
    tries = receiver.at(callback_url, answered=None)
    assert [t.answered for t in tries] == [500, 500, 200]
    assert {t.event.event_id for t in tries} == {delivered.event.event_id}
    # The bank logs a try once it has read the answer, a moment after the receiver counted it.
    log = await deliveries(admin, payment.payment_id, at_least=3)
    assert [(e["attempt"], e["answer"]) for e in log] == [(1, 500), (2, 500), (3, 200)]

    # Nobody listening: bounded tries, then the bank gives up.
    (dead_port,) = free_ports(1)
    nowhere = await new_payment(gateway, f"http://127.0.0.1:{dead_port}/callbacks")
    await pay_by_card(buyer, nowhere, GOOD_CARD)
    await deliveries(admin, nowhere.payment_id, at_least=RETRY_TRIES)
    await asyncio.sleep(0.5)
    log = await deliveries(admin, nowhere.payment_id)
    assert [e["attempt"] for e in log] == list(range(1, RETRY_TRIES + 1))
    assert all(e["answer"] is None and e["error"] for e in log)


async def test_duplicate_callbacks_share_the_event_id(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    (await admin.post("/admin/callbacks", json={"duplicate": True})).raise_for_status()
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url)
    await pay_by_card(buyer, payment, GOOD_CARD)

    first, second = await receiver.wait_for(callback_url, 2)

    assert first.body == second.body
    assert first.event.event_id == second.event.event_id
    for delivery in (first, second):
        assert verify_callback(delivery.body, delivery.headers["x-bank-signature"], SECRET)


async def test_reordered_callbacks_bring_the_final_status_first(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    settings = {"reorder": True, "delayMs": 600}
    (await admin.post("/admin/callbacks", json=settings)).raise_for_status()
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, amount=50_00)
    await pay_by_card(buyer, payment, GOOD_CARD)
    await gateway.refund(payment.payment_id, amount_kopecks=50_00, idempotency_key=key())

    later, earlier = (r.event for r in await receiver.wait_for(callback_url, 2))

    assert (later.status, earlier.status) == (PaymentStatus.REFUNDED, PaymentStatus.SUCCEEDED)
    assert later.occurred_at > earlier.occurred_at  # what a receiver can order them by


async def test_held_callbacks_leave_polling_to_tell_a_late_success(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    (await admin.post("/admin/callbacks/hold")).raise_for_status()
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url)
    await pay_by_card(buyer, payment, GOOD_CARD)

    await asyncio.sleep(0.3)
    assert receiver.at(callback_url, answered=None) == []
    assert (await gateway.get_payment(payment.payment_id)).status is PaymentStatus.SUCCEEDED

    released = await admin.post("/admin/callbacks/release")
    assert released.json() == {"held": False, "released": 1}
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is PaymentStatus.SUCCEEDED


# --- signatures and secrets -------------------------------------------------------------------


def test_verify_callback_rejects_anything_but_the_exact_signature() -> None:
    body = b'{"paymentId":"pay_1","status":"SUCCEEDED","amountKopecks":100}'
    good = callback_signature(body, SECRET)
    assert good.startswith("sha256=")
    assert len(good) == len("sha256=") + 64
    assert verify_callback(body, good, SECRET)
    assert verify_callback(body, " " + good.upper().replace("SHA256=", "sha256=") + " ", SECRET)

    for signature in (
        callback_signature(body, "another-secret"),
        callback_signature(body.replace(b"100", b"900"), SECRET),
        good[len("sha256=") :],  # no scheme
        "md5=" + good[len("sha256=") :],
        good[:-1],
        good + "0",
        "sha256=",
        "",
        "sha256=ЖЖЖ",
    ):
        assert not verify_callback(body, signature, SECRET), signature
    assert not verify_callback(body + b" ", good, SECRET)
    assert not verify_callback(body, good, "")
    with pytest.raises(ValidationError):
        parse_callback(b"not json")
    with pytest.raises(ValidationError):
        parse_callback(b'{"paymentId": "pay_1", "status": "LOST"}')


async def test_no_card_number_or_cvc_leaves_the_bank(
    bank: Bank,
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    number, cvc = "2200 7012 3456 7896", "987"  # МИР
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, bind_card=True)
    result = await pay_by_card(buyer, payment, number, cvc=cvc)
    paid = await gateway.get_payment(payment.payment_id)
    assert paid.card is not None
    assert paid.card.masked == "220070******7896"
    charged = await gateway.charge_token(
        paid.card.token, amount_kopecks=1_00, idempotency_key=key(), description="x"
    )
    refund = await gateway.refund(payment.payment_id, amount_kopecks=1_00, idempotency_key=key())
    callbacks = await receiver.wait_for(callback_url, 2)
    raw_payment = (await admin.get(f"/api/payments/{payment.payment_id}")).text
    log = (await admin.get("/admin/callbacks/log")).text
    await asyncio.sleep(0.1)  # let the emulator's log lines reach the file

    seen = (
        [repr(x) for x in (payment, paid, charged, refund, *(c.event for c in callbacks))]
        + [c.body.decode() for c in callbacks]
        + [raw_payment, log, result.html]
    )
    digits = number.replace(" ", "")
    for text in seen:
        assert digits not in text
        assert number not in text
        assert digits[6:12] not in text  # the hidden middle digits
        assert not re.search(rf"(?<![0-9A-Za-z]){cvc}(?![0-9A-Za-z])", text), text
        assert "cvc" not in text.lower()
    # The bank's own log (its timestamps' milliseconds could look like any CVC).
    bank_log = bank.log_file.read_text("utf-8")
    assert payment.payment_id in bank_log
    assert digits not in bank_log
    assert digits[6:12] not in bank_log


# --- the adapter alone ------------------------------------------------------------------------


async def test_emulator_rejects_bad_requests(
    gateway: HttpBankGateway, admin: httpx.AsyncClient, buyer: httpx.AsyncClient, bank: Bank
) -> None:
    good: dict[str, Any] = {
        "amountKopecks": 100,
        "idempotencyKey": "k",
        "description": "x",
        "returnUrl": RETURN_URL,
        "callbackUrl": "http://127.0.0.1:1/cb",
        "method": "CARD",
        "bindCard": False,
        "customerRef": "u",
    }
    for change in (
        {"amountKopecks": 0},
        {"amountKopecks": -5},
        {"amountKopecks": "сто"},
        {"idempotencyKey": ""},
        {"returnUrl": "javascript:alert(1)"},
        {"callbackUrl": "ftp://x"},
        {"method": "CASH"},
        {"cardNumber": "4111111111111111"},  # unknown fields are refused, card data above all
    ):
        response = await admin.post("/api/payments", json={**good, **change})
        assert response.status_code == 400, change
        assert response.json()["errorMessage"], change
    for response in (await admin.get("/api/nothing"), await admin.delete("/api/payments")):
        assert response.status_code in (404, 405)
        assert response.json()["errorMessage"]
    missing = await admin.get("/api/payments/pay_missing")
    assert missing.status_code == 404
    assert "errorMessage" in missing.json()
    page = await buyer.get(f"{bank.url}/pay/pay_missing")
    assert page.status_code == 404
    assert "Платёж не найден" in page.text

    with pytest.raises(NotFoundError):
        await gateway.get_payment("pay_missing")
    with pytest.raises(ValidationError, match="amountKopecks"):
        await new_payment(gateway, "http://127.0.0.1:1/cb", amount=0)


async def test_gateway_maps_answers_and_sends_the_contract() -> None:
    sent: list[tuple[str, str, Any]] = []
    answers: dict[str, httpx.Response] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.method, request.url.path, json.loads(request.content or b"null")))
        answer = answers[request.url.path]
        if answer.status_code == 599:
            raise httpx.ReadTimeout("slow bank", request=request)
        return answer

    gateway: BankGateway = HttpBankGateway(
        "http://bank.test", transport=httpx.MockTransport(handler)
    )
    assert isinstance(gateway, HttpBankGateway)
    payment_json = {
        "paymentId": "pay_1",
        "status": "SUCCEEDED",
        "method": "CARD",
        "amountKopecks": 500,
        "refundedKopecks": 0,
        "declineReason": None,
        "card": {"token": "tok_1", "masked": "411111******1111", "expiry": "12/30", "pan": "x"},
        "confirmationUrl": "http://bank.test/pay/pay_1",
    }
    try:
        answers["/api/payments"] = httpx.Response(200, json=payment_json)
        created = await gateway.create_payment(
            amount_kopecks=500,
            idempotency_key="k1",
            description="d",
            return_url=RETURN_URL,
            callback_url="http://shop.test/cb",
            method=PaymentMethod.SBP,
            bind_card=True,
            customer_ref="u1",
        )
        assert created.card is not None
        assert created.card.token == "tok_1"
        assert "pan" not in repr(created)
        assert sent[-1] == (
            "POST",
            "/api/payments",
            {
                "amountKopecks": 500,
                "idempotencyKey": "k1",
                "description": "d",
                "returnUrl": RETURN_URL,
                "callbackUrl": "http://shop.test/cb",
                "method": "SBP",
                "bindCard": True,
                "customerRef": "u1",
            },
        )

        for status, error in ((400, ValidationError), (404, NotFoundError), (409, ConflictError)):
            answers["/api/payments/pay_1"] = httpx.Response(
                status, json={"errorMessage": f"ошибка {status}"}
            )
            with pytest.raises(error, match=f"ошибка {status}"):
                await gateway.get_payment("pay_1")
        answers["/api/payments/pay_1"] = httpx.Response(409, text="<html>")
        with pytest.raises(ConflictError, match="409"):
            await gateway.get_payment("pay_1")

        for status in (500, 502, 503, 429):
            answers["/api/payments/pay_1"] = httpx.Response(status, json={"errorMessage": "x"})
            with pytest.raises(httpx.HTTPStatusError):
                await gateway.get_payment("pay_1")
        answers["/api/payments/pay_1"] = httpx.Response(599)
        with pytest.raises(httpx.TimeoutException):
            await gateway.get_payment("pay_1")

        for broken in ({**payment_json, "status": "LOST"}, {"paymentId": "pay_1"}, [1, 2]):
            answers["/api/payments/pay_1"] = httpx.Response(200, json=broken)
            with pytest.raises(BankAnswerError):
                await gateway.get_payment("pay_1")
        answers["/api/payments/pay_1"] = httpx.Response(200, text="<html>")
        with pytest.raises(BankAnswerError):
            await gateway.get_payment("pay_1")

        answers["/api/tokens/tok_1/charge"] = httpx.Response(
            200, json={**payment_json, "status": "DECLINED", "declineReason": "Нет"}
        )
        declined = await gateway.charge_token(
            "tok_1", amount_kopecks=500, idempotency_key="k2", description="d"
        )
        assert declined.status is PaymentStatus.DECLINED
        assert declined.decline_reason == "Нет"
        assert sent[-1][2] == {
            "amountKopecks": 500,
            "idempotencyKey": "k2",
            "description": "d",
            "callbackUrl": None,
        }
    finally:
        await gateway.aclose()


async def test_fake_gateway_follows_the_same_rules() -> None:
    fake = FakeBankGateway(secret="s")
    as_protocol: BankGateway = fake  # mypy checks the fake against the Protocol
    assert as_protocol is fake
    request: dict[str, Any] = {
        "amount_kopecks": 300_00,
        "idempotency_key": "order-1-payment-1",
        "description": "Заказ",
        "return_url": RETURN_URL,
        "callback_url": "http://shop.test/cb",
        "method": PaymentMethod.CARD,
        "bind_card": True,
    }
    payment = await fake.create_payment(**request)
    assert payment.status is PaymentStatus.PENDING
    assert payment.confirmation_url
    assert await fake.create_payment(**request) == payment
    with pytest.raises(ConflictError):
        await fake.create_payment(**{**request, "amount_kopecks": 1})

    callback, body, signature = fake.settle(payment.payment_id, save_card=True)
    assert verify_callback(body, signature, "s")
    assert parse_callback(body) == callback
    assert callback.status is PaymentStatus.SUCCEEDED
    paid = await fake.get_payment(payment.payment_id)
    assert paid.card is not None

    charged = await fake.charge_token(
        paid.card.token, amount_kopecks=100, idempotency_key="c1", description="d"
    )
    assert charged.status is PaymentStatus.SUCCEEDED
    bad = fake.save_card(decline="Недостаточно средств на карте")
    declined = await fake.charge_token(
        bad.token, amount_kopecks=100, idempotency_key="c2", description="d"
    )
    with pytest.raises(PaymentDeclinedError):
        declined.raise_if_declined()

    refund = await fake.refund(payment.payment_id, amount_kopecks=100_00, idempotency_key="r1")
    assert refund.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert (
        await fake.refund(payment.payment_id, amount_kopecks=100_00, idempotency_key="r1") == refund
    )
    with pytest.raises(ConflictError):
        await fake.refund(payment.payment_id, amount_kopecks=200_01, idempotency_key="r2")

    fake.failures_left = 1
    with pytest.raises(httpx.ConnectError):
        await fake.get_payment(payment.payment_id)
    assert (await fake.get_payment(payment.payment_id)).refunded_kopecks == 100_00
