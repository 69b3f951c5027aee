"""The API tests' `shop` and `seeded` (tests/support/shop_fixtures.py), and shops with other
settings: `shop_with(**settings)`, and the shop with secure cookies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory
from tests.conftest import BankEmulator
from tests.support.shop import Shop, open_shop
from tests.support.shop_fixtures import seeded as seeded
from tests.support.shop_fixtures import shop as shop

ShopWith = Callable[..., AbstractAsyncContextManager[Shop]]


@pytest.fixture
def shop_with(
    sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> ShopWith:
    """Open a shop of the test's database and servers with these settings changed."""

    def opened(**settings: object) -> AbstractAsyncContextManager[Shop]:
        # Settings only: open_shop's own keywords (sabotage, queues, serve) are not passed here.
        return open_shop(sessions, dev_server_env, couriers_url, bank_emulator, **settings)  # type: ignore[arg-type]

    return opened


@pytest.fixture
async def secure_shop(shop_with: ShopWith) -> AsyncIterator[Shop]:
    """The shop with `cookie_secure` on (as in production)."""
    async with shop_with(cookie_secure=True) as running:
        yield running
