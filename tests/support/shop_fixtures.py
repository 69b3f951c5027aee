"""The `shop` and `seeded` fixtures: the API over ASGI (and on a local port for the bank's
callbacks), a real Temporal dev server, in-process workers on the test database, and the courier
and bank emulators (tests/support/shop.py). The conftests of tests/api and tests/security import
them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory
from tests.conftest import BankEmulator
from tests.support.auth import login_shopper
from tests.support.shop import Shop, open_shop


@pytest.fixture
async def shop(
    sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> AsyncIterator[Shop]:
    async with open_shop(sessions, dev_server_env, couriers_url, bank_emulator) as running:
        yield running


@pytest.fixture
async def seeded(
    seeded_sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> AsyncIterator[Shop]:
    """The shop on a copy of the sample catalogue, with a logged-in shopper."""
    async with open_shop(seeded_sessions, dev_server_env, couriers_url, bank_emulator) as running:
        yield await login_shopper(running)
