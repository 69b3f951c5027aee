"""The bank emulator's books: payments, saved cards and refunds, behind one lock."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from emulators import bank_pages as pages
from emulators.bank_models import (
    CARD_EXPIRED,
    CARD_OUTCOMES,
    SBP_REJECTED,
    THREE_DS_CODE,
    THREE_DS_FAILED,
    BankError,
    ChargeIn,
    Event,
    Payment,
    PaymentIn,
    RefundIn,
    SeedCardIn,
    StoredCard,
    check_card_form,
    expired,
    log,
    mask,
)


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
