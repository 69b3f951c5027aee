"""The cookies of a browser's sign-in: the session (set at login, emptied at logout, by the API
and the pages alike), and while signing in through an outside provider the state bound to this
browser and the identity it holds until linked."""

from __future__ import annotations

from fastapi import Response

from core.settings import Settings

SESSION_COOKIE = "sessionId"
SSO_STATE_COOKIE = "ssoState"  # from «Войти через …» to the provider's redirect back
SSO_STATE_SECONDS = 10 * 60
SSO_PENDING_COOKIE = "ssoPending"  # an identity waiting for a registration or a password
SSO_PENDING_SECONDS = 30 * 60


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    _cookie(response, SESSION_COOKIE, token, settings.session_ttl_hours * 3600, settings)


def clear_session_cookie(response: Response, settings: Settings) -> None:
    _cookie(response, SESSION_COOKIE, "", 0, settings)


def set_sso_cookie(response: Response, name: str, value: str, settings: Settings) -> None:
    seconds = SSO_STATE_SECONDS if name == SSO_STATE_COOKIE else SSO_PENDING_SECONDS
    _cookie(response, name, value, seconds, settings)


def clear_sso_cookie(response: Response, name: str, settings: Settings) -> None:
    _cookie(response, name, "", 0, settings)


def _cookie(response: Response, name: str, value: str, max_age: int, settings: Settings) -> None:
    # SameSite=Lax: sent on the provider's top-level redirect back, never on another site's POST.
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
