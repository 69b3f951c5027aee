"""notification activities: accounts, and mail delivered at most once per idempotency key."""

from __future__ import annotations

from temporalio import activity

from activities.billing import DEV_GIFT_CARD_SECRET
from activities.errors import domain_errors
from activities.mail import deliver
from adapters.mailer import Mailer
from core.db import SessionFactory, transaction
from models.payloads import (
    Changed,
    CustomerInput,
    EntityRef,
    GiftCardMailInput,
    MailResult,
    NotificationAccountInput,
    ResultMailInput,
    WelcomeMailInput,
)
from models.purchase import POSTCARDS
from services import billing, notification


class NotificationActivities:
    def __init__(
        self,
        session_factory: SessionFactory,
        mailer: Mailer,
        store_url: str,
        gift_card_secret: str = DEV_GIFT_CARD_SECRET,
    ) -> None:
        self._sessions = session_factory
        self._mailer = mailer
        self._store_url = store_url
        self._gift_card_secret = gift_card_secret

    @activity.defn(name="notification.create_account")
    @domain_errors
    async def create_account(self, data: NotificationAccountInput) -> EntityRef:
        async with transaction(self._sessions) as session:
            account = await notification.create_account(
                session=session, username=data.username, email=data.email, phone=data.phone
            )
            assert account.id is not None
            return EntityRef(id=account.id)

    @activity.defn(name="notification.delete_account")
    @domain_errors
    async def delete_account(self, data: CustomerInput) -> Changed:
        async with transaction(self._sessions) as session:
            return Changed(
                await notification.delete_account(session=session, username=data.username)
            )

    @activity.defn(name="notification.send_welcome_mail")
    @domain_errors
    async def send_welcome_mail(self, data: WelcomeMailInput) -> MailResult:
        subject, body = notification.welcome_mail(
            first_name=data.first_name, username=data.username, store_url=self._store_url
        )
        return await deliver(
            self._sessions, self._mailer, data.idempotency_key, data.username, subject, body
        )

    @activity.defn(name="notification.send_result_mail")
    @domain_errors
    async def send_result_mail(self, data: ResultMailInput) -> MailResult:
        """The order outcome (spec Format 2) or a payment attempt's result (Format 3)."""
        subject, body = notification.result_mail(
            kind=data.kind,
            order_id=data.order_id,
            success=data.success,
            amount_kopecks=data.amount_kopecks,
            detail=data.detail,
            store_url=self._store_url,
            method=data.method,
            masked=data.masked,
        )
        return await deliver(
            self._sessions, self._mailer, data.idempotency_key, data.username, subject, body
        )

    @activity.defn(name="notification.send_gift_card_mail")
    @domain_errors
    async def send_gift_card_mail(self, data: GiftCardMailInput) -> MailResult:
        """The grantee's mail: the postcard and the code, derived here from the card's issue key
        (it never passes through the workflow, its history or the database)."""
        order = data.order
        subject, body = notification.gift_card_mail(
            grantee_name=order.grantee_name,
            buyer=data.buyer,
            amount_kopecks=data.amount_kopecks,
            postcard_title=POSTCARDS.get(order.design, order.design),
            postcard_url=f"{self._store_url}/giftcard/postcards/{order.design}.svg",
            store_url=self._store_url,
        )
        code = billing.format_code(billing.issue_code(data.issue_key, self._gift_card_secret))
        return await deliver(
            self._sessions,
            self._mailer,
            data.idempotency_key,
            data.buyer,
            subject,
            body,
            address=order.grantee_email,
            fill={notification.CODE_MARKER: code},
        )
