"""Signing in through the OpenID Connect provider emulator the way a browser does: the store's
«Войти через …» redirect, the provider's form, and the redirect back (tests/conftest.py:
OidcEmulator)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.conftest import OidcEmulator

KEY = "mock"
TITLE = "Тестовый ID"


def provider_settings(issuer: str, key: str = KEY) -> list[dict[str, Any]]:
    """SHOP_SSO_PROVIDERS naming the emulator (or any issuer)."""
    return [
        {
            "key": key,
            "title": TITLE,
            "issuer": issuer,
            "client_id": "shopflow",
            "client_secret": "emulator-secret",
        }
    ]


def new_identity(oidc: OidcEmulator, **claims: object) -> str:
    """A subject the provider knows, with an e-mail (verified) and a name unless told otherwise."""
    sub = f"sub-{uuid.uuid4().hex[:12]}"
    given = {
        "email": f"{sub}@mail.example",
        "email_verified": True,
        "given_name": "Борис",
        "family_name": "Петров",
    }
    oidc.user(sub, **(given | claims))
    return sub


async def to_provider(http: httpx.AsyncClient, next_url: str = "/") -> str:
    """«Войти через …»: the provider's authorization URL the store redirects to."""
    response = await http.get(f"/auth/sso/{KEY}/start", params={"next": next_url})
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def authorize(authorization_url: str, sub: str, *, deny: bool = False) -> str:
    """The shopper on the provider's form; the store's callback path and query it sends back."""
    async with httpx.AsyncClient() as provider:
        form = {"action": "deny"} if deny else {"sub": sub}
        response = await provider.post(authorization_url, data=form)
    assert response.status_code == 302, response.text
    back = urlsplit(response.headers["location"])
    return f"{back.path}?{back.query}"


async def sign_in(http: httpx.AsyncClient, sub: str, next_url: str = "/") -> httpx.Response:
    """The whole round trip; the store's answer to the callback (a 303 on success)."""
    callback = await authorize(await to_provider(http, next_url), sub)
    return await http.get(callback, headers=HTML)


HTML = {"Accept": "text/html"}  # what a browser's navigation sends: errors come as pages
