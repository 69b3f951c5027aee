"""SMS gateway emulator: an SMS provider's HTTP API that keeps every message, and an inbox page.

For development and tests: `python -m emulators.sms --host 127.0.0.1 --port 8300`.

    POST   /api/sms        Authorization: Bearer <key>
                           {"to": "+79123456789", "text": "...", "clientRef": "..."}
                           → 200 {"id", "status": "ACCEPTED"}
    GET    /api/messages   ?to=+79123456789 → [{"id", "receivedAt", "to", "text", "clientRef",
                                                 "status"}], newest first
    DELETE /api/messages   forget every message (and every clientRef)
    GET    /               the inbox page: every SMS received, newest first
    GET    /healthz        {"status": "ok"}

The provider's own idempotency: a `clientRef` seen before answers the id it got the first time and
sends nothing (whatever the rest of the request says). Errors are `{"errorMessage": ...}`: 401 for
a missing or wrong key (`--api-key`, default "dev-sms-key"), 400 for a number that is not +7 and
10 digits, an empty or over-long (> 1000 characters) text or a missing/over-long clientRef, 422 for
a number given with `--refuse-number` (repeatable): the operator refuses it for good.
"""

from __future__ import annotations

import argparse
import hmac
import html
import itertools
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from emulators.common import install_error_handlers, json_error

log = logging.getLogger("sms-emulator")

MAX_TEXT_LENGTH = 1000
MAX_CLIENT_REF_LENGTH = 200
NUMBER = re.compile(r"\+7[0-9]{10}")


@dataclass(frozen=True)
class StoredSms:
    id: str
    received_at: str
    to: str
    text: str
    client_ref: str
    status: str = "ACCEPTED"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "receivedAt": self.received_at,
            "to": self.to,
            "text": self.text,
            "clientRef": self.client_ref,
            "status": self.status,
        }


class Inbox:
    """Every accepted SMS and the id each clientRef got. Only async endpoints touch it, all on the
    one event loop, so it needs no lock."""

    def __init__(self, limit: int = 5000) -> None:
        self._messages: list[StoredSms] = []
        self._by_ref: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._limit = limit

    def accept(self, *, to: str, text: str, client_ref: str) -> tuple[str, bool]:
        """The id for this clientRef and whether the message is new."""
        known = self._by_ref.get(client_ref)
        if known is not None:
            return known, False
        sms = StoredSms(
            id=f"sms-{next(self._ids):08d}",
            received_at=datetime.now(UTC).isoformat(timespec="seconds"),
            to=to,
            text=text,
            client_ref=client_ref,
        )
        self._messages.append(sms)
        self._by_ref[client_ref] = sms.id
        for dropped in self._messages[: -self._limit]:
            self._by_ref.pop(dropped.client_ref, None)
        del self._messages[: -self._limit]
        return sms.id, True

    def list(self, to: str | None = None) -> list[StoredSms]:
        messages = list(reversed(self._messages))
        if to:
            messages = [m for m in messages if m.to == to.strip()]
        return messages

    def clear(self) -> None:
        self._messages.clear()
        self._by_ref.clear()


class SmsIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    to: str
    text: str
    client_ref: str = Field(min_length=1, max_length=MAX_CLIENT_REF_LENGTH)


_PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>{title}</title><style>
body{{font-family:system-ui,sans-serif;margin:24px;color:#1d2330}}
table{{border-collapse:collapse;width:100%}}
td,th{{text-align:left;padding:8px;border-bottom:1px solid #dfe3ea;vertical-align:top}}
td.text{{white-space:pre-wrap}}
</style></head><body>{content}</body></html>"""


def create_app(
    inbox: Inbox, *, api_key: str, refuse_numbers: frozenset[str] = frozenset()
) -> FastAPI:
    app = FastAPI(title="SMS-шлюз (эмулятор)")
    install_error_handlers(app)
    expected = f"Bearer {api_key}".encode()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/sms", response_model=None)
    async def send(request: Request) -> dict[str, str] | JSONResponse:
        # The key is checked before the body is read: a caller without it learns nothing more.
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            response = json_error(401, "Неверный или отсутствующий ключ API")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        try:
            body = SmsIn.model_validate_json(await request.body())
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'запрос'}: {error['msg']}"
                for error in exc.errors()
            )
            return json_error(400, f"Неверный запрос: {problems}")
        if not NUMBER.fullmatch(body.to):
            return json_error(400, f"Неверный номер {body.to!r}: нужен +7 и 10 цифр")
        if not body.text.strip():
            return json_error(400, "Пустой текст сообщения")
        if len(body.text) > MAX_TEXT_LENGTH:
            return json_error(400, f"Текст длиннее {MAX_TEXT_LENGTH} символов")
        if body.to in refuse_numbers:
            log.info("refused %s (client ref %s)", body.to, body.client_ref)
            return json_error(422, f"Номер {body.to} не принимает сообщения")
        sms_id, new = inbox.accept(to=body.to, text=body.text, client_ref=body.client_ref)
        log.info(
            "%s %s to %s (client ref %s)",
            "sms" if new else "repeat of",
            sms_id,
            body.to,
            body.client_ref,
        )
        return {"id": sms_id, "status": "ACCEPTED"}

    @app.get("/api/messages")
    async def messages(to: Annotated[str | None, Query()] = None) -> list[dict[str, Any]]:
        return [m.as_json() for m in inbox.list(to)]

    @app.delete("/api/messages", status_code=204)
    async def clear() -> None:
        inbox.clear()

    @app.get("/", response_class=HTMLResponse)
    async def page(to: str | None = None) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(m.received_at)}</td><td>{html.escape(m.to)}</td>"
            f'<td class="text">{html.escape(m.text)}</td></tr>'
            for m in inbox.list(to)
        )
        content = (
            "<h1>SMS-сообщения</h1><p>Все SMS, отправленные магазином.</p>"
            "<table><tr><th>Получено (UTC)</th><th>Кому</th><th>Текст</th></tr>"
            f"{rows or '<tr><td colspan=3>Сообщений пока нет</td></tr>'}</table>"
        )
        return _PAGE.format(title="SMS-сообщения", content=content)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--api-key", default="dev-sms-key", help="the Bearer key clients send")
    parser.add_argument(
        "--refuse-number", action="append", default=[], help="422 for this number (+7XXXXXXXXXX)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sms %(levelname)s %(message)s")
    log.info("SMS gateway and inbox on http://%s:%s", args.host, args.port)
    app = create_app(Inbox(), api_key=args.api_key, refuse_numbers=frozenset(args.refuse_number))
    # Like the other emulators: a request still in flight does not hold up shutdown.
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=2
    )


if __name__ == "__main__":
    main()
