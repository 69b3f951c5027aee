"""A mail, delivered once per idempotency key: recorded by notification, handed to the mail
system, marked sent. Shared by the activities that mail (notification's, account's)."""

from __future__ import annotations

from adapters.mailer import Mailer, OutgoingMail
from core.db import SessionFactory, transaction
from models.payloads import MailResult
from services import notification


async def deliver(
    sessions: SessionFactory,
    mailer: Mailer,
    key: str,
    username: str,
    subject: str,
    body: str,
    *,
    address: str = "",
    fill: dict[str, str] | None = None,
) -> MailResult:
    """Record the mail once under `key`, send it unless it was sent, then mark it sent.
    `address`: another person's (else the customer's own e-mail). `fill`: secrets (a gift card's
    code, a confirmation link) put in for their markers only as the mail is handed over, so the
    stored message never holds them.

    A crash between the SMTP hand-off and the mark can resend it once: at-least-once, with a
    stable Message-ID so mail clients fold the twin away.
    """
    async with transaction(sessions) as session:
        message = await notification.record_email(
            session=session,
            idempotency_key=key,
            username=username,
            subject=subject,
            body=body,
            address=address,
        )
    assert message.id is not None
    message_id = f"<notification-{message.id}@shopflow.local>"
    if message.sent_at is not None:
        return MailResult(message_id=message_id, sent=True, already_sent=True)
    text = message.body
    for marker, value in (fill or {}).items():
        text = text.replace(marker, value)
    await mailer.send(
        OutgoingMail(to=message.address, subject=message.subject, body=text, message_id=message_id)
    )
    async with transaction(sessions) as session:
        await notification.mark_sent(session=session, notification_id=message.id)
    return MailResult(message_id=message_id, sent=True)
