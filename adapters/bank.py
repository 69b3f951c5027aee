"""The bank (card acquiring and СБП): a Protocol, the HTTP implementation, and a fake for tests.

The bank hosts the card form: Shopflow creates a payment, sends the buyer to its `confirmation_url`,
and learns the outcome from the bank's signed callback (`verify_callback`, `parse_callback`) or by
polling `get_payment`. Card numbers and CVCs never pass through here; a saved card is a token and a
masked number.

Errors: the bank's 400 → ValidationError, 404 → NotFoundError, 409 → ConflictError (a reused
idempotency key with another body, a refund beyond what is left). A declined payment is not an
error but a payment in status DECLINED; `BankPayment.raise_if_declined()` turns it into a
PaymentDeclinedError where a caller wants one. 5xx answers, timeouts and connection failures
propagate as httpx errors, infrastructure for the caller's retry policy.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import httpx

from core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PaymentDeclinedError,
    ValidationError,
)

SIGNATURE_HEADER = "X-Bank-Signature"
_T = TypeVar("_T")


class PaymentMethod(StrEnum):
    CARD = "CARD"
    SBP = "SBP"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    DECLINED = "DECLINED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"

    @property
    def final(self) -> bool:
        return self is not PaymentStatus.PENDING

    @property
    def paid(self) -> bool:
        """The money was taken (some of it may have been returned since)."""
        return self in (
            PaymentStatus.SUCCEEDED,
            PaymentStatus.PARTIALLY_REFUNDED,
            PaymentStatus.REFUNDED,
        )


@dataclass(frozen=True)
class SavedCard:
    token: str
    masked: str  # 411111******1111
    expiry: str  # MM/YY


@dataclass(frozen=True)
class BankPayment:
    payment_id: str
    status: PaymentStatus
    method: PaymentMethod
    amount_kopecks: int
    refunded_kopecks: int = 0
    decline_reason: str | None = None
    card: SavedCard | None = None
    confirmation_url: str | None = None  # the bank's page for the buyer; None for token charges

    def raise_if_declined(self) -> None:
        if self.status is PaymentStatus.DECLINED:
            raise PaymentDeclinedError(self.decline_reason or "Банк отклонил операцию")


@dataclass(frozen=True)
class BankRefund:
    refund_id: str
    payment_id: str
    amount_kopecks: int
    payment_status: PaymentStatus
    refunded_kopecks: int  # the payment's total refunded so far


@dataclass(frozen=True)
class BankCallback:
    payment_id: str
    status: PaymentStatus
    amount_kopecks: int
    event_id: str  # the same for every redelivery of one event
    occurred_at: datetime


class BankAnswerError(Exception):
    """The bank answered 2xx with something unreadable. Not a DomainError: retried as infra."""


class BankGateway(Protocol):
    async def create_payment(
        self,
        *,
        amount_kopecks: int,
        idempotency_key: str,
        description: str,
        return_url: str,
        callback_url: str,
        method: PaymentMethod,
        bind_card: bool = False,
        customer_ref: str | None = None,
    ) -> BankPayment:
        """A PENDING payment with its confirmation_url; the same key answers the same payment,
        ConflictError if the other arguments differ."""

    async def get_payment(self, payment_id: str) -> BankPayment:
        """The payment as the bank sees it now; NotFoundError for an unknown id."""

    async def charge_token(
        self,
        token: str,
        *,
        amount_kopecks: int,
        idempotency_key: str,
        description: str,
        callback_url: str | None = None,
    ) -> BankPayment:
        """Charge a saved card at once: SUCCEEDED or DECLINED. NotFoundError for an unknown
        token."""

    async def refund(
        self, payment_id: str, *, amount_kopecks: int, idempotency_key: str
    ) -> BankRefund:
        """Return part or all of a paid payment; idempotent by key. ConflictError beyond what is
        left or for an unpaid payment."""


def callback_signature(body: bytes, secret: str) -> str:
    """The X-Bank-Signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_callback(body: bytes, signature_header: str, secret: str) -> bool:
    """Whether `signature_header` is the bank's HMAC of exactly these bytes (constant time)."""
    if not secret or not signature_header:
        return False
    scheme, _, given = signature_header.strip().partition("=")
    if scheme.lower() != "sha256" or not given:
        return False
    expected = callback_signature(body, secret).partition("=")[2]
    return hmac.compare_digest(
        expected.encode("ascii"), given.strip().lower().encode("ascii", "replace")
    )


def _read(body: Any, build: Callable[[Any], _T]) -> _T:
    try:
        return build(body)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BankAnswerError(f"unreadable bank answer: {exc!r}") from exc


def _payment(body: dict[str, Any]) -> BankPayment:
    card = body.get("card")
    return BankPayment(
        payment_id=str(body["paymentId"]),
        status=PaymentStatus(body["status"]),
        method=PaymentMethod(body["method"]),
        amount_kopecks=int(body["amountKopecks"]),
        refunded_kopecks=int(body.get("refundedKopecks") or 0),
        decline_reason=body.get("declineReason") or None,
        # Only these three fields are taken, whatever else a bank might send about the card.
        card=None
        if card is None
        else SavedCard(str(card["token"]), str(card["masked"]), str(card["expiry"])),
        confirmation_url=body.get("confirmationUrl") or None,
    )


def _refund(body: dict[str, Any]) -> BankRefund:
    return BankRefund(
        refund_id=str(body["refundId"]),
        payment_id=str(body["paymentId"]),
        amount_kopecks=int(body["amountKopecks"]),
        payment_status=PaymentStatus(body["paymentStatus"]),
        refunded_kopecks=int(body["refundedKopecks"]),
    )


def parse_callback(body: bytes) -> BankCallback:
    """The callback's fields; ValidationError if the body is not one (verify the signature
    first)."""
    try:
        data = json.loads(body)
        return BankCallback(
            payment_id=str(data["paymentId"]),
            status=PaymentStatus(data["status"]),
            amount_kopecks=int(data["amountKopecks"]),
            event_id=str(data["eventId"]),
            occurred_at=datetime.fromisoformat(data["occurredAt"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError("Неверное уведомление банка") from exc


_ERRORS: dict[int, type[DomainError]] = {
    400: ValidationError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
}


class HttpBankGateway:
    """The bank's HTTP API (emulators/bank.py serves the same contract) over one client."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self._client.request(method, path, json=body)
        error = _ERRORS.get(response.status_code)
        if error is not None:
            try:
                message = str(response.json()["errorMessage"])
            except (ValueError, KeyError, TypeError):
                message = f"Банк ответил {response.status_code}"
            raise error(message)
        response.raise_for_status()  # 5xx, 429 and the like: infrastructure, retried by callers
        try:
            return response.json()
        except ValueError as exc:
            raise BankAnswerError("the bank answered something other than JSON") from exc

    async def create_payment(
        self,
        *,
        amount_kopecks: int,
        idempotency_key: str,
        description: str,
        return_url: str,
        callback_url: str,
        method: PaymentMethod,
        bind_card: bool = False,
        customer_ref: str | None = None,
    ) -> BankPayment:
        body = await self._call(
            "POST",
            "/api/payments",
            {
                "amountKopecks": amount_kopecks,
                "idempotencyKey": idempotency_key,
                "description": description,
                "returnUrl": return_url,
                "callbackUrl": callback_url,
                "method": str(method),
                "bindCard": bind_card,
                "customerRef": customer_ref,
            },
        )
        return _read(body, _payment)

    async def get_payment(self, payment_id: str) -> BankPayment:
        return _read(await self._call("GET", f"/api/payments/{payment_id}"), _payment)

    async def charge_token(
        self,
        token: str,
        *,
        amount_kopecks: int,
        idempotency_key: str,
        description: str,
        callback_url: str | None = None,
    ) -> BankPayment:
        body = await self._call(
            "POST",
            f"/api/tokens/{token}/charge",
            {
                "amountKopecks": amount_kopecks,
                "idempotencyKey": idempotency_key,
                "description": description,
                "callbackUrl": callback_url,
            },
        )
        return _read(body, _payment)

    async def refund(
        self, payment_id: str, *, amount_kopecks: int, idempotency_key: str
    ) -> BankRefund:
        body = await self._call(
            "POST",
            f"/api/payments/{payment_id}/refunds",
            {"amountKopecks": amount_kopecks, "idempotencyKey": idempotency_key},
        )
        return _read(body, _refund)


@dataclass
class FakeBankGateway:
    """Test fake with the emulator's rules in memory. Payments stay PENDING until `settle`, which
    answers the callback the bank would send (for a workflow test to signal). Saved cards are
    added with `save_card`; `failures_left` makes the next calls fail like a bank that is down."""

    secret: str = "fake-bank-secret"  # noqa: S105 - a test fake's own key
    payments: dict[str, BankPayment] = field(default_factory=dict)
    declining_tokens: dict[str, str] = field(default_factory=dict)  # token → decline reason
    failures_left: int = 0
    calls: list[str] = field(default_factory=list)
    _keys: dict[str, tuple[tuple[Any, ...], str]] = field(default_factory=dict, repr=False)
    _refunds: dict[str, tuple[tuple[Any, ...], BankRefund]] = field(
        default_factory=dict, repr=False
    )
    _cards: dict[str, SavedCard] = field(default_factory=dict, repr=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def _enter(self, call: str) -> None:
        self.calls.append(call)
        if self.failures_left > 0:
            self.failures_left -= 1
            raise httpx.ConnectError(f"bank unreachable (fake) during {call}")

    def _claim(self, key: str, request: tuple[Any, ...]) -> BankPayment | None:
        known = self._keys.get(key)
        if known is None:
            return None
        if known[0] != request:
            raise ConflictError("Ключ идемпотентности уже использован с другими параметрами")
        return self.payments[known[1]]

    def _add(self, key: str, request: tuple[Any, ...], payment: BankPayment) -> BankPayment:
        self.payments[payment.payment_id] = payment
        self._keys[key] = (request, payment.payment_id)
        return payment

    def save_card(
        self, masked: str = "411111******1111", expiry: str = "12/30", *, decline: str | None = None
    ) -> SavedCard:
        card = SavedCard(f"tok_fake{next(self._ids)}", masked, expiry)
        self._cards[card.token] = card
        if decline:
            self.declining_tokens[card.token] = decline
        return card

    async def create_payment(
        self,
        *,
        amount_kopecks: int,
        idempotency_key: str,
        description: str,
        return_url: str,
        callback_url: str,
        method: PaymentMethod,
        bind_card: bool = False,
        customer_ref: str | None = None,
    ) -> BankPayment:
        self._enter("create_payment")
        if amount_kopecks <= 0:
            raise ValidationError("Сумма должна быть больше нуля")
        request = (
            amount_kopecks,
            description,
            return_url,
            callback_url,
            method,
            bind_card,
            customer_ref,
        )
        known = self._claim(idempotency_key, request)
        if known is not None:
            return known
        payment_id = f"pay_fake{next(self._ids)}"
        payment = BankPayment(
            payment_id=payment_id,
            status=PaymentStatus.PENDING,
            method=PaymentMethod(method),
            amount_kopecks=amount_kopecks,
            confirmation_url=f"https://bank.fake/pay/{payment_id}",
        )
        return self._add(idempotency_key, request, payment)

    async def get_payment(self, payment_id: str) -> BankPayment:
        self._enter("get_payment")
        if payment_id not in self.payments:
            raise NotFoundError(f"Платёж {payment_id} не найден")
        return self.payments[payment_id]

    async def charge_token(
        self,
        token: str,
        *,
        amount_kopecks: int,
        idempotency_key: str,
        description: str,
        callback_url: str | None = None,
    ) -> BankPayment:
        self._enter("charge_token")
        card = self._cards.get(token)
        if card is None:
            raise NotFoundError("Сохранённая карта не найдена")
        request = ("charge", token, amount_kopecks, description, callback_url)
        known = self._claim(idempotency_key, request)
        if known is not None:
            return known
        reason = self.declining_tokens.get(token)
        payment = BankPayment(
            payment_id=f"pay_fake{next(self._ids)}",
            status=PaymentStatus.DECLINED if reason else PaymentStatus.SUCCEEDED,
            method=PaymentMethod.CARD,
            amount_kopecks=amount_kopecks,
            decline_reason=reason,
            card=card,
        )
        return self._add(idempotency_key, request, payment)

    async def refund(
        self, payment_id: str, *, amount_kopecks: int, idempotency_key: str
    ) -> BankRefund:
        self._enter("refund")
        if amount_kopecks <= 0:
            raise ValidationError("Сумма возврата должна быть больше нуля")
        payment = self.payments.get(payment_id)
        if payment is None:
            raise NotFoundError(f"Платёж {payment_id} не найден")
        known = self._refunds.get(idempotency_key)
        if known is not None:
            if known[0] != (payment_id, amount_kopecks):
                raise ConflictError("Ключ идемпотентности уже использован для другого возврата")
            return known[1]
        if not payment.status.paid:
            raise ConflictError("Платёж не оплачен: возвращать нечего")
        left = payment.amount_kopecks - payment.refunded_kopecks
        if amount_kopecks > left:
            raise ConflictError(f"Сумма возврата больше остатка платежа ({left} коп.)")
        refunded = payment.refunded_kopecks + amount_kopecks
        status = (
            PaymentStatus.REFUNDED
            if refunded == payment.amount_kopecks
            else PaymentStatus.PARTIALLY_REFUNDED
        )
        self.payments[payment_id] = replace(payment, status=status, refunded_kopecks=refunded)
        refund = BankRefund(
            f"ref_fake{next(self._ids)}", payment_id, amount_kopecks, status, refunded
        )
        self._refunds[idempotency_key] = ((payment_id, amount_kopecks), refund)
        return refund

    def settle(
        self, payment_id: str, *, decline: str | None = None, save_card: bool = False
    ) -> tuple[BankCallback, bytes, str]:
        """Finish a PENDING payment as the buyer would on the bank's page; returns the callback,
        its raw body and its signature header, as the bank would POST them."""
        payment = self.payments[payment_id]
        card = self.save_card() if save_card and not decline else None
        settled = replace(
            payment,
            status=PaymentStatus.DECLINED if decline else PaymentStatus.SUCCEEDED,
            decline_reason=decline,
            card=card,
        )
        self.payments[payment_id] = settled
        event = {
            "paymentId": payment_id,
            "status": str(settled.status),
            "amountKopecks": settled.amount_kopecks,
            "refundedKopecks": 0,
            "eventId": f"evt_fake{next(self._ids)}",
            "occurredAt": "2025-06-02T12:00:00.000000+00:00",
        }
        body = json.dumps(event, separators=(",", ":")).encode("utf-8")
        return parse_callback(body), body, callback_signature(body, self.secret)
