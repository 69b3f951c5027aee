"""An in-memory stand-in for the bank with the emulator's rules, for workflow and activity tests
that need no bank process (`adapters.bank.HttpBankGateway` is the real one)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from adapters.bank import (
    BankCallback,
    BankPayment,
    BankRefund,
    PaymentMethod,
    PaymentStatus,
    SavedCard,
    callback_signature,
    parse_callback,
)
from core.errors import ConflictError, NotFoundError, ValidationError


@dataclass
class FakeBankGateway:
    """Test fake with the emulator's rules in memory. Payments stay PENDING until `settle`, which
    answers the callback the bank would send (for a workflow test to signal). Saved cards are
    added with `save_card`; `failures_left` makes the next calls fail like a bank that is down."""

    secret: str = "fake-bank-secret"  # a test fake's own key
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
