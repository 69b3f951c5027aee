"""The limit on failed logins (services/auth_limits.py `login_limited` over core/attempts.py): wrong
passwords answer 401 up to the limit per account (10 by default), then 429 with Retry-After in the
spec's error shape — for the right password too; another account from another client address is
not limited; per client address over any logins; once the window has passed, login works again."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from core.attempts import AttemptLimit
from core.db import SessionFactory
from core.errors import AuthError, NotFoundError, TooManyAttemptsError
from core.timeutil import utcnow
from services import auth_limits
from tests.support.auth import log_in_new_customer, register
from tests.support.errors import assert_error, assert_limited
from tests.support.shop import Shop, api_settings, from_another_address
from tests.support.users import add_user

SETTINGS = api_settings()
PER_ACCOUNT = SETTINGS.login_wrong_passwords_per_account
WINDOW = timedelta(minutes=SETTINGS.login_window_minutes)
LIMITED = "Слишком много попыток входа. Попробуйте снова через 15 мин."
TTL = timedelta(hours=1)


def assert_refused(response: httpx.Response) -> int:
    return assert_limited(response, LIMITED, WINDOW)


async def test_wrong_passwords_then_429_even_for_the_right_one(shop: Shop) -> None:
    body = await register(shop)
    right = {"username": body["username"], "password": body["password"]}
    wrong = {"username": body["username"], "password": "wrong password"}
    for _ in range(PER_ACCOUNT):
        assert_error(await shop.http.post("/auth/login", json=wrong), 401)

    assert_refused(await shop.http.post("/auth/login", json=wrong))
    assert_refused(await shop.http.post("/auth/login", json=right))
    upper = {**right, "username": body["username"].upper()}
    assert_refused(await shop.http.post("/auth/login", json=upper)), "any case is one account"
    assert (await shop.http.get("/auth/auth")).status_code == 401, "no session was opened"

    # Another shopper, connecting from another address, is not limited.
    async with from_another_address(shop) as other:
        await log_in_new_customer(other)


async def _login(
    sessions: SessionFactory,
    username: str,
    password: str,
    *,
    address: str = "10.0.0.1",
    limit: AttemptLimit,
    after: timedelta = timedelta(0),
) -> str:
    _, token = await auth_limits.login_limited(
        sessions=sessions,
        username=username,
        password=password,
        old_token=None,
        ttl=TTL,
        address=address,
        limit=limit,
        clock=lambda: utcnow() + after,
    )
    return token


async def test_limit_per_address_counts_unknown_logins_and_other_accounts(
    sessions: SessionFactory,
) -> None:
    limit = AttemptLimit(per_subject=100, per_address=3, window=WINDOW)
    await add_user(sessions, "alice")
    with pytest.raises(NotFoundError):
        await _login(sessions, "nobody", "x" * 8, limit=limit)
    with pytest.raises(AuthError):
        await _login(sessions, "alice", "wrong password", limit=limit)
    with pytest.raises(NotFoundError):
        await _login(sessions, "nobody2", "x" * 8, limit=limit)
    with pytest.raises(TooManyAttemptsError) as refused:
        await _login(sessions, "alice", "correct horse", limit=limit)
    assert 0 < refused.value.retry_after_seconds <= WINDOW.total_seconds()
    # From another address the same account logs in.
    assert await _login(sessions, "alice", "correct horse", address="10.0.0.2", limit=limit)


async def test_login_works_again_once_the_window_has_passed(sessions: SessionFactory) -> None:
    limit = AttemptLimit(per_subject=2, per_address=100, window=WINDOW)
    await add_user(sessions, "bob")
    for _ in range(2):
        with pytest.raises(AuthError):
            await _login(sessions, "bob", "wrong password", limit=limit)
    with pytest.raises(TooManyAttemptsError):
        await _login(sessions, "bob", "correct horse", limit=limit)
    later = WINDOW + timedelta(seconds=1)
    assert await _login(sessions, "bob", "correct horse", limit=limit, after=later)


async def test_a_successful_login_does_not_count(sessions: SessionFactory) -> None:
    limit = AttemptLimit(per_subject=1, per_address=1, window=WINDOW)
    await add_user(sessions, "carol")
    for _ in range(3):
        assert await _login(sessions, "carol", "correct horse", limit=limit)
