"""The bank (card acquiring and СБП): a Protocol and the HTTP implementation (the in-memory fake
for tests is tests/support/fake_bank.py).

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
import json
from collections.abc import Callable
from dataclasses import dataclass
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
