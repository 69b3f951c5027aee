"""The session cookie: set at login, emptied at logout (by the API and the pages alike)."""

from __future__ import annotations

from fastapi import Response

from core.settings import Settings

SESSION_COOKIE = "sessionId"


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    _cookie(response, token, settings.session_ttl_hours * 3600, settings)


def clear_session_cookie(response: Response, settings: Settings) -> None:
    _cookie(response, "", 0, settings)


def _cookie(response: Response, value: str, max_age: int, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
