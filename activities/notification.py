"""notification activities: accounts, and mail delivered at most once per idempotency key."""

from __future__ import annotations

from temporalio import activity

from activities.billing import DEV_GIFT_CARD_SECRET
from activities.errors import domain_errors
from activities.mail import deliver
from adapters.mailer import Mailer
from adapters.sms import SmsGateway
from core.db import SessionFactory, transaction
from models.notification import ChannelKind
from models.payloads import (
    Changed,
    CustomerInput,
    EntityRef,
    MailResult,
    NotificationAccountInput,
    ResultMailInput,
    WelcomeMailInput,
)
from models.payloads_fulfilment import DeliveryNoticeInput
from models.payloads_purchase import GiftCardMailInput
from models.purchase import POSTCARDS
from services import billing, notification


class NotificationActivities:
    def __init__(
        self,
        session_factory: SessionFactory,
        mailer: Mailer,
        store_url: str,
        gift_card_secret: str = DEV_GIFT_CARD_SECRET,
        sms: SmsGateway | None = None,
    ) -> None:
        self._sms = sms
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

    @activity.defn(name="notification.send_delivery_notice")
    @domain_errors
    async def send_delivery_notice(self, data: DeliveryNoticeInput) -> MailResult:
        """A fulfilment stage announced (Format 4) on every channel the shopper keeps on: the
        mail, an SMS through the gateway, an in-app notice; once per channel whatever the
        retries (each is recorded under its own key before it is handed over)."""
        choice = data.delivery
        subject, body = notification.delivery_notice(
            order_id=data.order_id,
            detail=data.detail,
            kind=choice.kind,
            point_address=choice.address if choice.kind == "PICKUP" else "",
            home_address=choice.address,
            delivery_date=choice.estimated_date,
            slot=data.slot,
            store_url=self._store_url,
        )
        async with transaction(self._sessions) as session:
            channels = await notification.enabled_channels(session=session, username=data.username)
        key, username = data.idempotency_key, data.username
        mailed = MailResult(message_id="", sent=False)
        if ChannelKind.EMAIL in channels:
            mailed = await deliver(self._sessions, self._mailer, key, username, subject, body)
        if ChannelKind.SMS in channels and self._sms is not None:
            await self._text(f"{key}-sms", username, channels[ChannelKind.SMS], subject)
        if ChannelKind.PUSH in channels:
            await self._push(f"{key}-push", username, subject, body)
        return mailed

    async def _text(self, key: str, username: str, phone: str, subject: str) -> None:
        """An SMS: recorded once, handed to the gateway (which also dedupes by `key`), marked."""
        assert self._sms is not None
        text = f"Shopflow. {subject}"
        async with transaction(self._sessions) as session:
            message = await notification.record_message(
                session=session,
                idempotency_key=key,
                username=username,
                kind=ChannelKind.SMS,
                address=phone,
                subject=subject,
                body=text,
            )
        if message.sent_at is not None:
            return
        await self._sms.send(to=phone, text=text, client_ref=key)
        assert message.id is not None
        async with transaction(self._sessions) as session:
            await notification.mark_sent(session=session, notification_id=message.id)

    async def _push(self, key: str, username: str, subject: str, body: str) -> None:
        """An in-app notice: the stored row is the delivery (the shopper's open pages read it)."""
        async with transaction(self._sessions) as session:
            message = await notification.record_message(
                session=session,
                idempotency_key=key,
                username=username,
                kind=ChannelKind.PUSH,
                address=username,
                subject=subject,
                body=body,
            )
            if message.sent_at is None and message.id is not None:
                await notification.mark_sent(session=session, notification_id=message.id)

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
