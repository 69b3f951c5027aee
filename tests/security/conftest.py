"""The API tests' `shop` and `seeded` (tests/support/shop_fixtures.py), and the shop with secure
cookies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory
from tests.conftest import BankEmulator
from tests.support.shop import Shop, open_shop
from tests.support.shop_fixtures import seeded as seeded
from tests.support.shop_fixtures import shop as shop


@pytest.fixture
async def secure_shop(
    sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> AsyncIterator[Shop]:
    """The shop with `cookie_secure` on (as in production)."""
    async with open_shop(
        sessions, dev_server_env, couriers_url, bank_emulator, cookie_secure=True
    ) as running:
        yield running
