"""One error body for every failure, `{"errorMessage": ..., "fields": {...}}`; never a trace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError, TooManyAttemptsError
from flows.engine import EngineError

log = logging.getLogger(__name__)

REQUIRED_FIELDS_MESSAGE = "Заполните обязательные поля"

HtmlRenderer = Callable[[Request, int, str], Response]


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def error_body(message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"errorMessage": message}
    if fields:
        body["fields"] = fields
    return body


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "cookie", "header", "path")]
    return ".".join(parts) or "body"


_MESSAGES = {
    "greater_than_equal": "не меньше {ge}",
    "greater_than": "больше {gt}",
    "less_than_equal": "не больше {le}",
    "less_than": "меньше {lt}",
    "int_parsing": "целое число",
    "int_type": "целое число",
    "int_from_float": "целое число",
    "string_pattern_mismatch": "недопустимые символы",
    "string_too_long": "не длиннее {max_length} символов",
    "string_too_short": "не короче {min_length} символов",
}


def _validation_message(error: dict[str, Any]) -> str:
    if error["type"] == "missing":
        return "обязательное поле"
    bound = _MESSAGES.get(error["type"])
    if bound is not None:
        return bound.format(**error.get("ctx", {}))
    message = str(error.get("msg", "неверное значение"))
    return message.removeprefix("Value error, ")


def error_headers(exc: DomainError) -> dict[str, str]:
    """The headers a domain error's answer carries: Retry-After for a TooManyAttemptsError."""
    if isinstance(exc, TooManyAttemptsError):
        return {"Retry-After": str(exc.retry_after_seconds)}
    return {}


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    response = _respond(request, exc.http_status, exc.message, exc.fields)
    response.headers.update(error_headers(exc))
    return response


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields: dict[str, str] = {}
    for error in exc.errors():
        fields.setdefault(_field_name(tuple(error["loc"])), _validation_message(error))
    missing = [name for name, msg in fields.items() if msg == "обязательное поле"]
    message = (
        f"{REQUIRED_FIELDS_MESSAGE}: {', '.join(missing)}" if missing else "Проверьте поля формы"
    )
    return _respond(request, 400, message, fields)  # a browser's GET: the HTML error page


def _respond(
    request: Request, status: int, message: str, fields: dict[str, str] | None = None
) -> Response:
    renderer: HtmlRenderer | None = getattr(request.app.state, "html_error_renderer", None)
    if renderer is not None and _wants_html(request):
        return renderer(request, status, message)
    return JSONResponse(error_body(message, fields), status_code=status)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    messages = {404: "Страница не найдена", 405: "Метод не поддерживается"}
    response = _respond(request, exc.status_code, messages.get(exc.status_code, str(exc.detail)))
    response.headers.update(exc.headers or {})
    return response


async def _on_temporal_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("Temporal unavailable: %s", exc)
    return _respond(request, 503, "Сервис временно недоступен, попробуйте через минуту")


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return _respond(request, 500, "Внутренняя ошибка магазина, попробуйте позже")


def install_error_handlers(app: FastAPI, html_renderer: HtmlRenderer | None = None) -> None:
    """JSON errors everywhere; an HTML page instead for a browser's GET when a renderer is given."""
    app.state.html_error_renderer = html_renderer
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(EngineError, _on_temporal_unavailable)
    app.add_exception_handler(Exception, _on_unexpected)
