"""Outgoing e-mail: a Protocol, the SMTP implementation, and an in-memory fake for tests."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

from core.errors import MailRejectedError


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str
    message_id: str  # stable per notification, so a resend is recognisable as the same mail


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None:
        """Hand the mail to the mail system; raise on any failure: MailRejectedError when the
        server refused it for good (retrying cannot help), anything else is worth a retry."""


PERMANENT = 500  # SMTP replies 5xx are permanent refusals; 4xx are temporary (RFC 5321, 4.2.1)


def _rejected(mail: OutgoingMail, code: int, reply: bytes | str) -> MailRejectedError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return MailRejectedError(
        f"Почтовый сервер не принял письмо для {mail.to}: {code} {text}",
        fields={"email": "адрес не принимает почту"},
    )


class SmtpMailer:
    """Plain SMTP. smtplib is blocking, so each send runs in a worker thread."""

    def __init__(self, *, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout

    def _compose(self, mail: OutgoingMail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = mail.message_id
        message.set_content(mail.body)
        return message

    def _send_blocking(self, mail: OutgoingMail) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.send_message(self._compose(mail))
        except smtplib.SMTPRecipientsRefused as exc:
            replies = list(exc.recipients.values())
            if replies and all(code >= PERMANENT for code, _ in replies):
                raise _rejected(mail, *replies[0]) from exc
            raise  # 4xx: the server may take it later
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if exc.smtp_code >= PERMANENT:
                raise _rejected(mail, exc.smtp_code, exc.smtp_error) from exc
            raise

    async def send(self, mail: OutgoingMail) -> None:
        await asyncio.to_thread(self._send_blocking, mail)


@dataclass
class RecordingMailer:
    """Test fake: keeps what it was asked to send; can be told to fail the next N sends."""

    sent: list[OutgoingMail] = field(default_factory=list)
    failures_left: int = 0

    async def send(self, mail: OutgoingMail) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionRefusedError("mail server unavailable (simulated)")
        self.sent.append(mail)
