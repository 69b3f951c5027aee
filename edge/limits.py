"""Limits on what a request may carry, as pure ASGI middleware, answered in the spec's error shape.

- BodyLimitMiddleware: a body that declares its length (Content-Length) over the cap is refused
  with 413 before a byte of it is read. A chunked body is counted as it streams in: the first
  chunk past the cap ends the request with 413, so nothing ever buffers more than the cap (plus
  one chunk).
- UrlCharactersMiddleware: a path or query with control characters (once percent-decoded) is
  400. No page or contract takes them, and a NUL is an error in PostgreSQL's text: an id such as
  `?orderId=a%00` would otherwise reach the database and fail there.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.errors import error_body


def too_large_message(max_bytes: int) -> str:
    size = f"{max_bytes // 1024} КиБ" if max_bytes % 1024 == 0 else f"{max_bytes} байт"
    return f"Слишком большой запрос: не больше {size}"


class BodyTooLargeError(HTTPException):
    """Raised from `receive` once a streamed body passes the cap. An HTTPException, so that a
    framework reading the body (FastAPI wraps other errors of body parsing into a 400) lets it
    through to the error handlers, which answer 413 in the error shape."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(max_bytes))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and (declared < 0 or declared > self.max_bytes):
            status = 413 if declared > self.max_bytes else 400
            message = too_large_message(self.max_bytes) if status == 413 else "Неверная длина"
            await _refuse(scope, receive, send, status, message)
            return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            # Only when nothing turned it into a response on the way out (a handler reading
            # the body outside the framework's error handling).
            if response_started:
                raise
            await _refuse(scope, receive, send, 413, too_large_message(self.max_bytes))


CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")
URL_MESSAGE = "Недопустимые символы в адресе запроса"


class UrlCharactersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            CONTROL_BYTES.search(scope["path"].encode("utf-8", "surrogateescape"))
            or CONTROL_BYTES.search(unquote_to_bytes(scope.get("query_string", b"")))
        ):
            await _refuse(scope, receive, send, 400, URL_MESSAGE)
            return
        await self.app(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    # The client may still be sending: the connection is closed after the answer.
    response = JSONResponse(
        error_body(message), status_code=status, headers={"Connection": "close"}
    )
    await response(scope, receive, send)
