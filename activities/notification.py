"""notification activities: accounts, and mail delivered at most once per idempotency key."""

from __future__ import annotations

from temporalio import activity

from activities.errors import domain_errors
from adapters.mailer import Mailer, OutgoingMail
from core.db import SessionFactory, transaction
from models.payloads import (
    Changed,
    CustomerInput,
    EntityRef,
    MailResult,
    NotificationAccountInput,
    ResultMailInput,
    WelcomeMailInput,
)
from services import notification


class NotificationActivities:
    def __init__(self, session_factory: SessionFactory, mailer: Mailer, store_url: str) -> None:
        self._sessions = session_factory
        self._mailer = mailer
        self._store_url = store_url

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
        return await self._deliver(data.idempotency_key, data.username, subject, body)

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
        return await self._deliver(data.idempotency_key, data.username, subject, body)

    async def _deliver(self, key: str, username: str, subject: str, body: str) -> MailResult:
        """Record the mail once under `key`, send it unless it was sent, then mark it sent.

        A crash between the SMTP hand-off and the mark can resend it once: at-least-once, with a
        stable Message-ID so mail clients fold the twin away.
        """
        async with transaction(self._sessions) as session:
            message = await notification.record_email(
                session=session, idempotency_key=key, username=username, subject=subject, body=body
            )
        assert message.id is not None
        message_id = f"<notification-{message.id}@shopflow.local>"
        if message.sent_at is not None:
            return MailResult(message_id=message_id, sent=True, already_sent=True)
        await self._mailer.send(
            OutgoingMail(
                to=message.address,
                subject=message.subject,
                body=message.body,
                message_id=message_id,
            )
        )
        async with transaction(self._sessions) as session:
            await notification.mark_sent(session=session, notification_id=message.id)
        return MailResult(message_id=message_id, sent=True)
