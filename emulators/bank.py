"""Bank emulator: card acquiring and СБП fast payments, as an outside bank would offer them.

For development and tests:
`python -m emulators.bank --host 127.0.0.1 --port 8100 --callback-secret SECRET`.

The bank hosts the card form, so card numbers and CVCs never reach the merchant: the merchant makes
a payment, sends the buyer to `confirmationUrl`, and learns the outcome from a signed callback or by
polling. Amounts are integer kopecks; errors are `{"errorMessage": ...}` with 400, 404 or 409.

    POST /api/payments                 {amountKopecks, idempotencyKey, description, returnUrl,
                                        callbackUrl, method: CARD|SBP, bindCard, customerRef}
                                       → payment (PENDING, with confirmationUrl); the same
                                         idempotencyKey answers the same payment, 409 if the
                                         body differs
    GET  /api/payments/{id}            → {paymentId, status, method, amountKopecks, refundedKopecks,
                                          declineReason, card: {token, masked, expiry} | null,
                                          confirmationUrl}
    POST /api/tokens/{token}/charge    {amountKopecks, idempotencyKey, description, callbackUrl}
                                       → payment, SUCCEEDED or DECLINED at once
    POST /api/payments/{id}/refunds    {amountKopecks, idempotencyKey} → {refundId, paymentId,
                                        amountKopecks, status, paymentStatus, refundedKopecks};
                                        409 beyond what is left of the payment
    GET  /pay/{id}                     card form, or the СБП QR code, or the result
    GET  /sbp/{id}/app                 the buyer's «bank app»: Подтвердить / Отклонить
    POST /admin/callbacks              {duplicate, delayMs, reorder} (replaces the whole setting)
    POST /admin/callbacks/hold|release hold callbacks back / send the held ones
    GET  /admin/callbacks/log          every delivery attempt and its answer (?paymentId=)
    DELETE /admin/callbacks            defaults, nothing held, empty log, pending deliveries dropped
    POST /admin/tokens                 {cardNumber, expiry, customerRef} → {token, masked, expiry}:
                                       a card saved in some earlier session (test set-up only)
    POST /admin/latency                {chargeMs}: answer token charges this much later (the
                                       charge itself is made at once)
    GET  /admin/payments?customerRef=  every payment of a customer (test checks)
    GET  /healthz

Test cards (any expiry not in the past, any three-digit CVC): 4111 1111 1111 1111 succeeds,
4000 0000 0000 0002 is declined, 4000 0000 0000 9995 has insufficient funds, 4000 0000 0000 3220
asks for a 3-D Secure code (1234 passes, anything else declines); any other Luhn-valid number
succeeds. Saved cards (tokens) keep their card's behaviour, except that a server-to-server charge
asks no 3-D Secure code.

Callbacks: every status change (paid, declined, each refund) is POSTed as JSON `{paymentId, status,
amountKopecks, refundedKopecks, eventId, occurredAt}` to the payment's callbackUrl, signed with
`X-Bank-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, and retried with exponential backoff
until a 2xx answer (`--callback-attempts` tries). Duplicates carry the same eventId. With `reorder`,
events are gathered for `delayMs` (1 s if 0) and then sent newest first; held events are released
newest first too.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

import httpx
import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException  # what FastAPI raises for unknown routes

from emulators import bank_pages as pages

log = logging.getLogger("bank-emulator")

DECLINED = "Банк отклонил операцию"
INSUFFICIENT_FUNDS = "Недостаточно средств на карте"
THREE_DS_FAILED = "Платёж не подтверждён: неверный код 3-D Secure"
SBP_REJECTED = "Платёж отклонён в приложении банка"
CARD_EXPIRED = "Срок действия карты истёк"
THREE_DS_CODE = "1234"
CARD_OUTCOMES: dict[str, str] = {  # card number → what the bank answers
    "4000000000000002": DECLINED,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000000000003220": "3DS",
}
MAX_LOG_ENTRIES = 10_000
CALLBACK_TIMEOUT_S = 5.0
URL_PATTERN = r"^https?://\S+$"


class BankError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PaymentIn(CamelModel):
    amount_kopecks: int = Field(gt=0, le=10**12)
    idempotency_key: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=256)
    return_url: str = Field(pattern=URL_PATTERN, max_length=2000)
    callback_url: str | None = Field(default=None, pattern=URL_PATTERN, max_length=2000)
    method: Literal["CARD", "SBP"]
    bind_card: bool = False
    customer_ref: str | None = Field(default=None, max_length=128)


class ChargeIn(CamelModel):
    amount_kopecks: int = Field(gt=0, le=10**12)
    idempotency_key: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=256)
    callback_url: str | None = Field(default=None, pattern=URL_PATTERN, max_length=2000)


class RefundIn(CamelModel):
    amount_kopecks: int = Field(gt=0, le=10**12)
    idempotency_key: str = Field(min_length=1, max_length=128)


class SeedCardIn(CamelModel):
    card_number: str
    expiry: str
    customer_ref: str | None = Field(default=None, max_length=128)


class LatencyIn(CamelModel):
    charge_ms: int = Field(default=0, ge=0, le=60_000)


class CallbackSettings(CamelModel):
    duplicate: bool = False
    delay_ms: int = Field(default=0, ge=0, le=60_000)
    reorder: bool = False


@dataclass(frozen=True)
class StoredCard:
    """The bank's own record of a saved card; its number never leaves the bank."""

    token: str
    number: str
    expiry: str
    customer_ref: str | None

    @property
    def masked(self) -> str:
        return mask(self.number)


@dataclass
class Payment:
    payment_id: str
    method: str
    amount: int
    description: str
    return_url: str
    callback_url: str | None
    bind_card: bool
    customer_ref: str | None
    status: str = "PENDING"
    refunded: int = 0
    decline_reason: str | None = None
    card: StoredCard | None = None  # shown (token, masked, expiry) once saved or charged
    challenge: tuple[str, str, bool] | None = None  # 3-D Secure pending: number, expiry, save


@dataclass(frozen=True)
class Event:
    event_id: str
    payment_id: str
    status: str
    url: str
    body: bytes


def mask(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def expired(expiry: str, now: datetime) -> bool:
    month, year = expiry.split("/")
    return (2000 + int(year), int(month)) < (now.year, now.month)


def check_card_form(number: str, expiry: str, cvc: str) -> tuple[str, str, list[str]]:
    """(digits, MM/YY, errors) from what the buyer typed; errors are shown on the form."""
    digits = re.sub(r"[\s-]", "", number)
    errors = []
    if not re.fullmatch(r"\d{13,19}", digits):
        errors.append("Введите номер карты полностью: от 13 до 19 цифр")
    elif not luhn_ok(digits):
        errors.append("Неверный номер карты")
    match = re.fullmatch(r"\s*(\d{2})\s*/\s*(\d{2})\s*", expiry)
    normalized = f"{match[1]}/{match[2]}" if match else ""
    if not match or not 1 <= int(match[1]) <= 12:
        errors.append("Укажите срок действия в формате ММ/ГГ")
    elif expired(normalized, datetime.now(UTC)):
        errors.append(CARD_EXPIRED)
    if not re.fullmatch(r"\d{3}", cvc.strip()):
        errors.append("CVC — три цифры на обороте карты")
    return digits, normalized, errors


class Bank:
    """Payments, saved cards and refunds. One lock around every read and change; callers get
    snapshots, and the events to send out, never the live objects."""

    def __init__(self, public_url: str) -> None:
        self._public_url = public_url.rstrip("/")
        self._lock = threading.Lock()
        self._payments: dict[str, Payment] = {}
        self._keys: dict[str, tuple[str, str]] = {}  # idempotency key → (request, payment id)
        self._refund_keys: dict[str, tuple[str, dict[str, Any]]] = {}
        self._cards: dict[str, StoredCard] = {}
        self._card_tokens: dict[tuple[str | None, str], str] = {}  # (customer, number) → token

    def _get(self, payment_id: str) -> Payment:
        payment = self._payments.get(payment_id)
        if payment is None:
            raise BankError(404, f"Платёж {payment_id} не найден")
        return payment

    def _json(self, payment: Payment) -> dict[str, Any]:
        card = payment.card
        return {
            "paymentId": payment.payment_id,
            "status": payment.status,
            "method": payment.method,
            "amountKopecks": payment.amount,
            "refundedKopecks": payment.refunded,
            "declineReason": payment.decline_reason,
            "card": None
            if card is None
            else {"token": card.token, "masked": card.masked, "expiry": card.expiry},
            "description": payment.description,
            "confirmationUrl": f"{self._public_url}/pay/{payment.payment_id}"
            if payment.return_url
            else None,
        }

    def _event(self, payment: Payment) -> Event | None:
        if not payment.callback_url:
            return None
        event_id = f"evt_{uuid.uuid4().hex}"
        body = {
            "paymentId": payment.payment_id,
            "status": payment.status,
            "amountKopecks": payment.amount,
            "refundedKopecks": payment.refunded,
            "eventId": event_id,
            "occurredAt": datetime.now(UTC).isoformat(timespec="microseconds"),
        }
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return Event(event_id, payment.payment_id, payment.status, payment.callback_url, raw)

    def _claim_key(self, key: str, request: str) -> Payment | None:
        """The payment an earlier request with this key made, or None for a new key."""
        known = self._keys.get(key)
        if known is None:
            return None
        if known[0] != request:
            raise BankError(409, "Ключ идемпотентности уже использован с другими параметрами")
        return self._payments[known[1]]

    def _new_payment(self, key: str, request: str, **fields: Any) -> Payment:
        payment = Payment(payment_id=f"pay_{uuid.uuid4().hex}", **fields)
        self._payments[payment.payment_id] = payment
        self._keys[key] = (request, payment.payment_id)
        return payment

    def create(self, body: PaymentIn) -> dict[str, Any]:
        request = "create:" + body.model_dump_json()
        with self._lock:
            payment = self._claim_key(body.idempotency_key, request) or self._new_payment(
                body.idempotency_key,
                request,
                method=body.method,
                amount=body.amount_kopecks,
                description=body.description,
                return_url=body.return_url,
                callback_url=body.callback_url,
                bind_card=body.bind_card and body.method == "CARD",
                customer_ref=body.customer_ref,
            )
            return self._json(payment)

    def get(self, payment_id: str) -> dict[str, Any]:
        with self._lock:
            return self._json(self._get(payment_id))

    def of_customer(self, customer_ref: str) -> list[dict[str, Any]]:
        """Every payment made for this customer (by the merchant's customerRef or a saved card of
        theirs), oldest first."""
        with self._lock:
            return [
                self._json(payment)
                for payment in self._payments.values()
                if payment.customer_ref == customer_ref
            ]

    def view(self, payment_id: str) -> pages.PaymentView | None:
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                return None
            return pages.PaymentView(
                payment_id=payment.payment_id,
                method=payment.method,
                status=payment.status,
                amount_kopecks=payment.amount,
                refunded_kopecks=payment.refunded,
                description=payment.description,
                return_url=payment.return_url,
                bind_card=payment.bind_card,
                decline_reason=payment.decline_reason,
                masked_card=mask(payment.challenge[0]) if payment.challenge else None,
            )

    def _save_card(self, payment: Payment, number: str, expiry: str) -> StoredCard:
        token = self._card_tokens.get((payment.customer_ref, number))
        if token is None or self._cards[token].expiry != expiry:
            token = f"tok_{secrets.token_hex(12)}"
            self._cards[token] = StoredCard(token, number, expiry, payment.customer_ref)
            self._card_tokens[(payment.customer_ref, number)] = token
        return self._cards[token]

    def _settle(
        self, payment: Payment, reason: str | None, card: StoredCard | None = None
    ) -> Event | None:
        payment.challenge = None
        payment.status = "DECLINED" if reason else "SUCCEEDED"
        payment.decline_reason = reason
        payment.card = card if not reason else None
        log.info("payment %s %s %s", payment.payment_id, payment.status, reason or "")
        return self._event(payment)

    def pay_by_card(
        self, payment_id: str, number: str, expiry: str, save: bool
    ) -> tuple[bool, Event | None]:
        """(asks for 3-D Secure, event); the number is already checked."""
        with self._lock:
            payment = self._get(payment_id)
            if payment.method != "CARD":
                raise BankError(409, "Этот платёж оплачивается через СБП")
            if payment.status != "PENDING":
                return False, None
            save = save and payment.bind_card
            outcome = CARD_OUTCOMES.get(number)
            if outcome == "3DS":
                payment.challenge = (number, expiry, save)
                return True, None
            card = self._save_card(payment, number, expiry) if save and not outcome else None
            return False, self._settle(payment, outcome, card)

    def confirm_3ds(self, payment_id: str, code: str) -> Event | None:
        with self._lock:
            payment = self._get(payment_id)
            if payment.status != "PENDING" or payment.challenge is None:
                return None
            number, expiry, save = payment.challenge
            if code.strip() != THREE_DS_CODE:
                return self._settle(payment, THREE_DS_FAILED)
            card = self._save_card(payment, number, expiry) if save else None
            return self._settle(payment, None, card)

    def has_challenge(self, payment_id: str) -> bool:
        with self._lock:
            payment = self._payments.get(payment_id)
            return payment is not None and payment.challenge is not None

    def decide_sbp(self, payment_id: str, confirm: bool) -> Event | None:
        with self._lock:
            payment = self._get(payment_id)
            if payment.method != "SBP":
                raise BankError(409, "Этот платёж оплачивается картой")
            if payment.status != "PENDING":
                return None
            return self._settle(payment, None if confirm else SBP_REJECTED)

    def seed_card(self, body: SeedCardIn) -> dict[str, str]:
        number, expiry, errors = check_card_form(body.card_number, body.expiry, "000")
        if errors:
            raise BankError(400, "; ".join(errors))
        with self._lock:
            token = f"tok_{secrets.token_hex(12)}"
            card = self._cards[token] = StoredCard(token, number, expiry, body.customer_ref)
            self._card_tokens[(body.customer_ref, number)] = token
            return {"token": token, "masked": card.masked, "expiry": expiry}

    def charge(self, token: str, body: ChargeIn) -> tuple[dict[str, Any], Event | None]:
        request = f"charge:{token}:" + body.model_dump_json()
        with self._lock:
            card = self._cards.get(token)
            if card is None:
                raise BankError(404, "Сохранённая карта не найдена")
            known = self._claim_key(body.idempotency_key, request)
            if known is not None:
                return self._json(known), None
            payment = self._new_payment(
                body.idempotency_key,
                request,
                method="CARD",
                amount=body.amount_kopecks,
                description=body.description,
                return_url="",
                callback_url=body.callback_url,
                bind_card=False,
                customer_ref=card.customer_ref,
            )
            outcome = CARD_OUTCOMES.get(card.number)
            if outcome == "3DS":  # a merchant-initiated charge asks the buyer nothing
                outcome = None
            if expired(card.expiry, datetime.now(UTC)):
                outcome = CARD_EXPIRED
            event = self._settle(payment, outcome, card)
            payment.card = card  # a declined charge still says which saved card it was
            return self._json(payment), event

    def refund(self, payment_id: str, body: RefundIn) -> tuple[dict[str, Any], Event | None]:
        request = f"{payment_id}:{body.amount_kopecks}"
        with self._lock:
            payment = self._get(payment_id)
            known = self._refund_keys.get(body.idempotency_key)
            if known is not None:
                if known[0] != request:
                    raise BankError(
                        409, "Ключ идемпотентности уже использован для другого возврата"
                    )
                return known[1], None
            if payment.status not in ("SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED"):
                raise BankError(409, "Платёж не оплачен: возвращать нечего")
            left = payment.amount - payment.refunded
            if body.amount_kopecks > left:
                raise BankError(409, f"Сумма возврата больше остатка платежа ({left} коп.)")
            payment.refunded += body.amount_kopecks
            payment.status = (
                "REFUNDED" if payment.refunded == payment.amount else "PARTIALLY_REFUNDED"
            )
            refund = {
                "refundId": f"ref_{uuid.uuid4().hex}",
                "paymentId": payment_id,
                "amountKopecks": body.amount_kopecks,
                "status": "SUCCEEDED",
                "paymentStatus": payment.status,
                "refundedKopecks": payment.refunded,
            }
            self._refund_keys[body.idempotency_key] = (request, refund)
            log.info("payment %s refund %s → %s", payment_id, body.amount_kopecks, payment.status)
            return refund, self._event(payment)


class Callbacks:
    """Delivers events at least once, with the faults a real bank's notifier shows: duplicates,
    delays, reordering, and holding back. Runs on the app's event loop; the lock keeps the
    settings, the held events and the log consistent for readers all the same."""

    def __init__(self, secret: str, *, retry_base_s: float, attempts: int) -> None:
        self._secret = secret.encode("utf-8")
        self._retry_base_s = retry_base_s
        self._attempts = attempts
        self._lock = threading.Lock()
        self.settings = CallbackSettings()
        self._held: list[Event] | None = None
        self._gathered: list[Event] = []
        self._log: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=CALLBACK_TIMEOUT_S)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        self.reset()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def emit(self, event: Event | None) -> None:
        if event is None:
            return
        with self._lock:
            if self._held is not None:
                self._held.append(event)
                return
            settings = self.settings
            if settings.reorder:
                self._gathered.append(event)
                if len(self._gathered) > 1:
                    return  # the first one's task sends the whole batch
        if settings.reorder:
            self._spawn(self._send_gathered((settings.delay_ms or 1000) / 1000))
        else:
            self._spawn(self._send_in_order([event], settings.delay_ms / 1000))

    async def _send_gathered(self, window_s: float) -> None:
        await asyncio.sleep(window_s)
        with self._lock:
            batch, self._gathered = self._gathered, []
        await self._send_in_order(batch[::-1], 0)

    def hold(self) -> int:
        with self._lock:
            if self._held is None:
                self._held = []
            return len(self._held)

    def release(self) -> int:
        with self._lock:
            held, self._held = self._held or [], None
            settings = self.settings
        order = held[::-1] if settings.reorder else held
        self._spawn(self._send_in_order(order, settings.delay_ms / 1000))
        return len(held)

    def reset(self) -> None:
        with self._lock:
            self.settings = CallbackSettings()
            self._held = None
            self._gathered = []
            self._log.clear()
        for task in list(self._tasks):
            task.cancel()

    def deliveries(self, payment_id: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._log if payment_id is None or e["paymentId"] == payment_id]

    async def _send_in_order(self, events: list[Event], delay_s: float) -> None:
        """First attempts go out one after another in this order; retries run on their own."""
        if delay_s:
            await asyncio.sleep(delay_s)
        copies = 2 if self.settings.duplicate else 1
        for event in events:
            for copy in range(1, copies + 1):
                if not await self._attempt(event, copy, 1):
                    self._spawn(self._retry(event, copy))

    async def _retry(self, event: Event, copy: int) -> None:
        for attempt in range(2, self._attempts + 1):
            await asyncio.sleep(min(self._retry_base_s * 2 ** (attempt - 2), 60.0))
            if await self._attempt(event, copy, attempt):
                return
        log.warning("callback %s: gave up after %s tries", event.event_id, self._attempts)

    async def _attempt(self, event: Event, copy: int, attempt: int) -> bool:
        assert self._client is not None
        answer: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(
                event.url,
                content=event.body,
                headers={
                    "Content-Type": "application/json",
                    "X-Bank-Signature": self.signature(event.body),
                    "X-Bank-Event-Id": event.event_id,
                },
            )
            answer = response.status_code
        except httpx.HTTPError as exc:
            error = repr(exc)
        entry = {
            "eventId": event.event_id,
            "paymentId": event.payment_id,
            "status": event.status,
            "url": event.url,
            "copy": copy,
            "attempt": attempt,
            "answer": answer,
            "error": error,
            "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        }
        with self._lock:
            self._log.append(entry)
            del self._log[:-MAX_LOG_ENTRIES]
        log.info(
            "callback %s %s try %s → %s", event.event_id, event.status, attempt, answer or error
        )
        return answer is not None and 200 <= answer < 300


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"errorMessage": message})


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand so the emulator needs no python-multipart.
    fields = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def create_app(
    *, callback_secret: str, public_url: str, retry_base_s: float = 1.0, attempts: int = 10
) -> FastAPI:
    bank = Bank(public_url)
    callbacks = Callbacks(callback_secret, retry_base_s=retry_base_s, attempts=attempts)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await callbacks.start()
        yield
        await callbacks.stop()

    app = FastAPI(title="Банк (эмулятор)", lifespan=lifespan)

    @app.exception_handler(BankError)
    async def bank_error(_request: Request, exc: BankError) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'][1:]) or 'запрос'}: {error['msg']}"
            for error in exc.errors()
        )
        return _error(400, f"Неверный запрос: {problems}")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/payments")
    async def create_payment(body: PaymentIn) -> dict[str, Any]:
        return bank.create(body)

    @app.get("/api/payments/{payment_id}")
    async def get_payment(payment_id: str) -> dict[str, Any]:
        return bank.get(payment_id)

    latency = LatencyIn()

    @app.post("/api/tokens/{token}/charge")
    async def charge(token: str, body: ChargeIn) -> dict[str, Any]:
        payment, event = bank.charge(token, body)
        callbacks.emit(event)
        # A slow answer after the money moved: the merchant may crash before it hears back.
        await asyncio.sleep(latency.charge_ms / 1000)
        return payment

    @app.post("/admin/latency")
    async def set_latency(body: LatencyIn) -> dict[str, int]:
        nonlocal latency
        latency = body
        return {"chargeMs": latency.charge_ms}

    @app.get("/admin/payments")
    async def customer_payments(
        customer_ref: Annotated[str, Query(alias="customerRef", min_length=1)],
    ) -> list[dict[str, Any]]:
        return bank.of_customer(customer_ref)

    @app.post("/api/payments/{payment_id}/refunds")
    async def refund(payment_id: str, body: RefundIn) -> dict[str, Any]:
        answer, event = bank.refund(payment_id, body)
        callbacks.emit(event)
        return answer

    def page_of(payment_id: str, build: Callable[[pages.PaymentView], str]) -> HTMLResponse:
        view = bank.view(payment_id)
        if view is None:
            return _html(pages.message("Платёж не найден", "Проверьте ссылку на оплату."), 404)
        if view.status != "PENDING":
            return _html(pages.result(view))
        return _html(build(view))

    def to_page(payment_id: str, suffix: str = "") -> RedirectResponse:
        return RedirectResponse(f"/pay/{payment_id}{suffix}", status_code=303)

    @app.get("/pay/{payment_id}", response_class=HTMLResponse)
    async def pay_page(payment_id: str) -> Response:
        view = bank.view(payment_id)
        build = pages.sbp_qr if view is not None and view.method == "SBP" else pages.card_form
        return page_of(payment_id, build)

    @app.post("/pay/{payment_id}", response_class=HTMLResponse)
    async def pay_submit(payment_id: str, request: Request) -> Response:
        view = bank.view(payment_id)
        if view is None or view.status != "PENDING" or view.method != "CARD":
            return page_of(payment_id, pages.card_form)
        form = await _form(request)
        number, expiry, errors = check_card_form(
            form.get("cardNumber", ""), form.get("expiry", ""), form.get("cvc", "")
        )
        if errors:
            return _html(pages.card_form(view, errors=errors, expiry=form.get("expiry", "")), 400)
        challenge, event = bank.pay_by_card(payment_id, number, expiry, "saveCard" in form)
        callbacks.emit(event)
        return to_page(payment_id, "/3ds" if challenge else "")

    @app.get("/pay/{payment_id}/3ds", response_class=HTMLResponse)
    async def three_ds_page(payment_id: str) -> Response:
        if not bank.has_challenge(payment_id):
            return to_page(payment_id)
        return page_of(payment_id, pages.three_ds_form)

    @app.post("/pay/{payment_id}/3ds", response_class=HTMLResponse)
    async def three_ds_submit(payment_id: str, request: Request) -> Response:
        if bank.view(payment_id) is None:
            return page_of(payment_id, pages.three_ds_form)
        callbacks.emit(bank.confirm_3ds(payment_id, (await _form(request)).get("code", "")))
        return to_page(payment_id)

    @app.get("/sbp/{payment_id}/app", response_class=HTMLResponse)
    async def sbp_app(payment_id: str) -> Response:
        view = bank.view(payment_id)
        if view is not None and view.method != "SBP":
            return _html(pages.message("Не СБП", "Этот платёж оплачивается картой."), 409)
        return page_of(payment_id, pages.sbp_app)

    @app.post("/sbp/{payment_id}/app", response_class=HTMLResponse)
    async def sbp_decide(payment_id: str, request: Request) -> Response:
        view = bank.view(payment_id)
        if view is None or view.method != "SBP":
            return await sbp_app(payment_id)
        decision = (await _form(request)).get("decision")
        if decision not in ("confirm", "reject"):
            return _html(pages.message("Неверный запрос", "Подтвердите или отклоните платёж."), 400)
        callbacks.emit(bank.decide_sbp(payment_id, decision == "confirm"))
        return to_page(payment_id)

    @app.post("/admin/tokens")
    async def seed_card(body: SeedCardIn) -> dict[str, str]:
        return bank.seed_card(body)

    @app.get("/admin/callbacks")
    async def callback_settings() -> CallbackSettings:
        return callbacks.settings

    @app.post("/admin/callbacks")
    async def set_callback_settings(settings: CallbackSettings) -> CallbackSettings:
        callbacks.settings = settings
        log.info("callback settings: %s", settings.model_dump_json(by_alias=True))
        return settings

    @app.delete("/admin/callbacks", status_code=204)
    async def reset_callbacks() -> None:
        callbacks.reset()

    @app.post("/admin/callbacks/hold")
    async def hold_callbacks() -> dict[str, Any]:
        return {"held": True, "waiting": callbacks.hold()}

    @app.post("/admin/callbacks/release")
    async def release_callbacks() -> dict[str, Any]:
        return {"held": False, "released": callbacks.release()}

    @app.get("/admin/callbacks/log")
    async def callback_log(
        payment_id: Annotated[str | None, Query(alias="paymentId")] = None,
    ) -> list[dict[str, Any]]:
        return callbacks.deliveries(payment_id)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--callback-secret", required=True, help="HMAC key for X-Bank-Signature")
    parser.add_argument(
        "--public-url", help="base URL buyers' browsers reach the bank at (default: host and port)"
    )
    parser.add_argument("--callback-retry-ms", type=int, default=1000, help="first retry delay")
    parser.add_argument("--callback-attempts", type=int, default=10)
    args = parser.parse_args(argv)
    if not args.callback_secret:
        parser.error("--callback-secret must not be empty")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bank %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    log.info("bank on http://%s:%s, pages at %s", args.host, args.port, public_url)
    app = create_app(
        callback_secret=args.callback_secret,
        public_url=public_url,
        retry_base_s=args.callback_retry_ms / 1000,
        attempts=max(1, args.callback_attempts),
    )
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=2
    )


if __name__ == "__main__":
    main()
