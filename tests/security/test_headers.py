"""Security headers on every answer (edge/headers.py): pages, the JSON API, static files, the
edge's own refusals; HSTS outside dev only."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from core.db import create_engine, create_session_factory
from core.settings import Settings
from edge.app import create_app
from edge.headers import CONTENT_SECURITY_POLICY
from tests.support.shop import Shop

EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


def assert_secured(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.url, name)


def test_the_policy_is_the_one_asked_for() -> None:
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


async def test_pages_the_api_static_files_and_refusals_carry_the_headers(shop: Shop) -> None:
    html = {"accept": "text/html"}
    answers = [
        await shop.http.get("/", headers=html),
        await shop.http.get("/login", headers=html),
        await shop.http.get("/nowhere", headers=html),  # the error page
        await shop.http.get("/store/search", params={"q": "чайник"}),
        await shop.http.get("/auth/auth"),  # 401 in the error shape
        await shop.http.get("/static/forms.js"),
        await shop.http.post("/order/place", json={}, headers={"Origin": "http://evil.example"}),
        await shop.http.get("/login?next=%00"),  # edge/limits.py's 400
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 200, 401, 200, 403, 400]
    for answer in answers:
        assert_secured(answer)
        # The test app's environment is "test": not dev, so HSTS is on.
        assert answer.headers["strict-transport-security"] == "max-age=31536000"


def app_in(environment: str, **extra: object) -> httpx.AsyncClient:
    settings = Settings(environment=environment, public_url="https://shop.example", **extra)  # type: ignore[arg-type]
    sessions = create_session_factory(create_engine("sqlite+aiosqlite:///:memory:"))
    app = create_app(settings, session_factory=sessions)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test")


PRODUCTION = {
    "cookie_secure": True,
    "database_url": "postgresql+asyncpg://shop:secret@db.example/shop",
    **{
        name: SecretStr(f"prod-{name}-0123456789abcdef")
        for name in (
            "bank_callback_secret",
            "service_key",
            "gift_card_secret",
            "account_secret",
            "sms_api_key",
        )
    },
}


@pytest.mark.parametrize(
    ("environment", "extra", "hsts"),
    [("dev", {}, False), ("production", PRODUCTION, True)],
)
async def test_hsts_only_outside_dev(
    environment: str, extra: dict[str, object], hsts: bool
) -> None:
    async with app_in(environment, **extra) as http:
        response = await http.get("/healthz")
    assert response.status_code == 200
    assert_secured(response)
    assert ("strict-transport-security" in response.headers) is hsts
