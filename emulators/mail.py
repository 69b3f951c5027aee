"""Mail emulator: an SMTP server that keeps every message, and a web mailbox to read them.

Like Mailpit, for development and tests:
`python -m emulators.mail --smtp-port 1025 --http-port 8025`.
The web page lists received mail newest first; `/api/messages` serves the same as JSON.
`--refuse-domain example.invalid` answers every recipient at that domain with a permanent 550,
`--defer-domain` with a temporary 450 (both repeatable): how real servers say no.
"""

from __future__ import annotations

import argparse
import html
import itertools
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse

log = logging.getLogger("mail-emulator")


@dataclass(frozen=True)
class StoredMail:
    id: int
    received_at: str
    mail_from: str
    to: list[str]
    subject: str
    message_id: str
    body: str


class Mailbox:
    """Thread-safe store: aiosmtpd delivers on its own thread, the web app reads on another."""

    def __init__(self, limit: int = 5000) -> None:
        self._lock = threading.Lock()
        self._mails: list[StoredMail] = []
        self._ids = itertools.count(1)
        self._limit = limit

    def add(self, envelope_from: str, recipients: list[str], raw: bytes) -> StoredMail:
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        with self._lock:
            mail = StoredMail(
                id=next(self._ids),
                received_at=datetime.now(UTC).isoformat(timespec="seconds"),
                mail_from=str(parsed.get("From", envelope_from)),
                to=recipients,
                subject=str(parsed.get("Subject", "")),
                message_id=str(parsed.get("Message-ID", "")),
                body=body,
            )
            self._mails.append(mail)
            del self._mails[: -self._limit]
        return mail

    def list(self, to: str | None = None) -> list[StoredMail]:
        with self._lock:
            mails = list(reversed(self._mails))
        if to:
            mails = [m for m in mails if to.lower() in (r.lower() for r in m.to)]
        return mails

    def get(self, mail_id: int) -> StoredMail | None:
        with self._lock:
            return next((m for m in self._mails if m.id == mail_id), None)

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()


class _Handler:
    def __init__(
        self,
        mailbox: Mailbox,
        refuse_domains: frozenset[str] = frozenset(),
        defer_domains: frozenset[str] = frozenset(),
    ) -> None:
        self._mailbox = mailbox
        self._refuse = refuse_domains
        self._defer = defer_domains

    async def handle_RCPT(
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _rcpt_options: list[str],
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain in self._refuse:
            return "550 5.1.1 No such mailbox here"
        if domain in self._defer:
            return "450 4.2.1 Mailbox temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        mail = self._mailbox.add(str(envelope.mail_from), list(envelope.rcpt_tos), content)
        log.info("mail %s to %s: %s", mail.id, ", ".join(mail.to), mail.subject)
        return "250 Message accepted for delivery"


_PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>{title}</title><style>
body{{font-family:system-ui,sans-serif;margin:24px;color:#1d2330}}
table{{border-collapse:collapse;width:100%}}
td,th{{text-align:left;padding:8px;border-bottom:1px solid #dfe3ea}}
pre{{white-space:pre-wrap;background:#f5f6f8;padding:16px}}
</style></head><body>{content}</body></html>"""


def create_app(mailbox: Mailbox) -> FastAPI:
    app = FastAPI(title="Почтовый ящик (эмулятор)")

    @app.get("/", response_class=HTMLResponse)
    def inbox(to: str | None = None) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(m.received_at)}</td><td>{html.escape(', '.join(m.to))}</td>"
            f'<td><a href="/messages/{m.id}">{html.escape(m.subject) or "(без темы)"}</a></td></tr>'
            for m in mailbox.list(to)
        )
        content = (
            "<h1>Почтовый ящик</h1><p>Все письма, отправленные магазином.</p>"
            "<table><tr><th>Получено (UTC)</th><th>Кому</th><th>Тема</th></tr>"
            f"{rows or '<tr><td colspan=3>Писем пока нет</td></tr>'}</table>"
        )
        return _PAGE.format(title="Почтовый ящик", content=content)

    @app.get("/messages/{mail_id}", response_class=HTMLResponse)
    def message(mail_id: int) -> str:
        mail = mailbox.get(mail_id)
        if mail is None:
            raise HTTPException(404, "Письмо не найдено")
        content = (
            f'<p><a href="/">← Все письма</a></p><h1>{html.escape(mail.subject)}</h1>'
            f"<p>От: {html.escape(mail.mail_from)}<br>Кому: {html.escape(', '.join(mail.to))}"
            f"<br>Получено: {html.escape(mail.received_at)}</p><pre>{html.escape(mail.body)}</pre>"
        )
        return _PAGE.format(title=html.escape(mail.subject), content=content)

    @app.get("/api/messages")
    def messages(to: str | None = None) -> list[dict[str, Any]]:
        return [asdict(m) for m in mailbox.list(to)]

    @app.delete("/api/messages", status_code=204)
    def clear() -> None:
        mailbox.clear()

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument(
        "--refuse-domain", action="append", default=[], help="550 for recipients at this domain"
    )
    parser.add_argument(
        "--defer-domain", action="append", default=[], help="450 for recipients at this domain"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s mail %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    mailbox = Mailbox()
    handler = _Handler(
        mailbox,
        refuse_domains=frozenset(d.lower() for d in args.refuse_domain),
        defer_domains=frozenset(d.lower() for d in args.defer_domain),
    )
    controller = Controller(handler, hostname=args.host, port=args.smtp_port)
    controller.start()
    log.info(
        "SMTP on %s:%s, mailbox on http://%s:%s",
        args.host,
        args.smtp_port,
        args.host,
        args.http_port,
    )
    try:
        # Like the other emulators: a request still in flight does not hold up shutdown.
        uvicorn.run(
            create_app(mailbox),
            host=args.host,
            port=args.http_port,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
