"""payment activities: payment profiles, remembered cards, and the bank through its adapter.

Bank calls carry the workflow's idempotency key, so a retried activity (a worker killed after the
bank answered) reaches the same bank payment instead of charging again. What they return is a
BankOutcome: the bank's status and at most a masked card number; the bank's card token stays in
our database and never enters workflow history.
"""

from __future__ import annotations

from temporalio import activity

from activities.errors import domain_errors
from adapters.bank import BankGateway, BankPayment, PaymentMethod
from core.db import SessionFactory, transaction
from models.payloads import (
    BankOutcome,
    BankPaymentInput,
    BankPaymentRef,
    BankRefundInput,
    Changed,
    CustomerInput,
    EntityRef,
    SaveCardInput,
    SavedCardChargeInput,
    bank_status,
)
from services import payment


def outcome(paid: BankPayment) -> BankOutcome:
    return BankOutcome(
        payment_id=paid.payment_id,
        status=bank_status(paid.status),
        amount_kopecks=paid.amount_kopecks,
        refunded_kopecks=paid.refunded_kopecks,
        decline_reason=paid.decline_reason or "",
        masked=paid.card.masked if paid.card else "",
        confirmation_url=paid.confirmation_url or "",
    )


class PaymentActivities:
    def __init__(self, session_factory: SessionFactory, bank: BankGateway) -> None:
        self._sessions = session_factory
        self._bank = bank

    @activity.defn(name="payment.create_profile")
    @domain_errors
    async def create_profile(self, data: CustomerInput) -> EntityRef:
        async with transaction(self._sessions) as session:
            profile = await payment.create_profile(session=session, username=data.username)
            assert profile.id is not None
            return EntityRef(id=profile.id)

    @activity.defn(name="payment.delete_profile")
    @domain_errors
    async def delete_profile(self, data: CustomerInput) -> Changed:
        async with transaction(self._sessions) as session:
            return Changed(await payment.delete_profile(session=session, username=data.username))

    @activity.defn(name="payment.create_bank_payment")
    @domain_errors
    async def create_bank_payment(self, data: BankPaymentInput) -> BankOutcome:
        """A payment on the bank's page (card form or СБП); PENDING with its page's URL."""
        created = await self._bank.create_payment(
            amount_kopecks=data.amount_kopecks,
            idempotency_key=data.idempotency_key,
            description=data.description,
            return_url=data.return_url,
            callback_url=data.callback_url,
            method=PaymentMethod(data.method),
            bind_card=data.save_card,
            customer_ref=data.username,
        )
        return outcome(created)

    @activity.defn(name="payment.charge_saved_card")
    @domain_errors
    async def charge_saved_card(self, data: SavedCardChargeInput) -> BankOutcome:
        """Charge one of the shopper's remembered cards at once: SUCCEEDED or DECLINED."""
        async with transaction(self._sessions) as session:
            card = await payment.get_saved_card(
                session=session, username=data.username, card_id=data.card_id
            )
        charged = await self._bank.charge_token(
            card.bank_token,
            amount_kopecks=data.amount_kopecks,
            idempotency_key=data.idempotency_key,
            description=data.description,
        )
        return outcome(charged)

    @activity.defn(name="payment.bank_payment_status")
    @domain_errors
    async def bank_payment_status(self, data: BankPaymentRef) -> BankOutcome:
        return outcome(await self._bank.get_payment(data.payment_id))

    @activity.defn(name="payment.save_card")
    @domain_errors
    async def save_card(self, data: SaveCardInput) -> Changed:
        """Remember the card the bank bound during this payment (if it bound one)."""
        paid = await self._bank.get_payment(data.payment_id)
        if paid.card is None:
            return Changed(False)
        async with transaction(self._sessions) as session:
            await payment.save_card(
                session=session,
                username=data.username,
                bank_token=paid.card.token,
                masked=paid.card.masked,
                expiry=paid.card.expiry,
            )
        return Changed(True)

    @activity.defn(name="payment.refund_bank_payment")
    @domain_errors
    async def refund_bank_payment(self, data: BankRefundInput) -> BankOutcome:
        """Return money to the card or account it came from; once per key."""
        await self._bank.refund(
            data.payment_id,
            amount_kopecks=data.amount_kopecks,
            idempotency_key=data.idempotency_key,
        )
        return outcome(await self._bank.get_payment(data.payment_id))
