"""The limit on registrations (services/auth_limits.py `admit_registration` over core/attempts.py
`admitted`): every registration counts, per e-mail (3 an hour by default: a stranger's mailbox is
not flooded with welcome mail under new logins) and per client address (20 an hour); past either,
429 with Retry-After in the spec's error shape, and no account is made; another address is not
limited; once the window has passed, registering works again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import func, select

from core.db import SessionFactory, transaction
from core.errors import TooManyAttemptsError
from core.timeutil import utcnow
from models.auth import User
from services import auth_limits
from tests.security.conftest import ShopWith
from tests.support.auth import new_customer
from tests.support.errors import assert_error, assert_limited
from tests.support.shop import Shop, api_settings, from_another_address

SETTINGS = api_settings()
PER_EMAIL = SETTINGS.registrations_per_email
PER_ADDRESS = 4  # the shop below lowers the address limit (20 by default) to keep the test short
WINDOW = timedelta(minutes=SETTINGS.registration_window_minutes)
LIMITED = "Слишком много регистраций. Попробуйте снова через 60 мин."


@pytest.fixture
async def strict_shop(shop_with: ShopWith) -> AsyncIterator[Shop]:
    async with shop_with(registrations_per_address=PER_ADDRESS) as running:
        yield running


def assert_refused(response: httpx.Response) -> int:
    return assert_limited(response, LIMITED, WINDOW)


async def _accounts(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        return (await session.exec(select(func.count()).select_from(User))).one()


async def test_one_email_is_registered_at_most_so_often(shop: Shop) -> None:
    email = "Victim@Example.ru"
    first = await shop.http.post("/auth/register", json=new_customer(email=email))
    assert first.status_code == 200, first.text
    for _ in range(PER_EMAIL - 1):  # the e-mail is taken: 409, and still counted
        assert_error(await shop.http.post("/auth/register", json=new_customer(email=email)), 409)
    accounts = await _accounts(shop.sessions)
    assert_refused(await shop.http.post("/auth/register", json=new_customer(email=email.lower())))
    assert await _accounts(shop.sessions) == accounts, "a refused registration makes no account"
    # Another e-mail from the same address registers.
    assert (await shop.http.post("/auth/register", json=new_customer())).status_code == 200


async def test_one_address_registers_at_most_so_often(strict_shop: Shop) -> None:
    for _ in range(PER_ADDRESS):
        response = await strict_shop.http.post("/auth/register", json=new_customer())
        assert response.status_code == 200, response.text
    assert_refused(await strict_shop.http.post("/auth/register", json=new_customer()))
    async with from_another_address(strict_shop) as other:
        assert (await other.post("/auth/register", json=new_customer())).status_code == 200


async def test_registering_works_again_once_the_window_has_passed(sessions: SessionFactory) -> None:
    settings = api_settings(registrations_per_email=1)

    async def admit(after: timedelta = timedelta(0)) -> None:
        await auth_limits.admit_registration(
            sessions=sessions,
            email="a@example.ru",
            address="10.0.0.1",
            settings=settings,
            clock=lambda: utcnow() + after,
        )

    await admit()
    with pytest.raises(TooManyAttemptsError):
        await admit()
    await admit(after=WINDOW + timedelta(seconds=1))
