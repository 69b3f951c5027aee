"""50 shoppers check out the last 10 units of a product at once: exactly 10 orders are paid,
stock never goes below zero, and every other shopper's money is untouched."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory
from tests.conftest import BankEmulator
from tests.support.race import UNITS, assert_race_settled, attempt, logged_in, prepare_race
from tests.support.shop import Shop, open_shop


async def test_fifty_shoppers_for_the_last_ten_units(
    sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> None:
    # A load test, not a deadline test: on a busy 2-core machine 50 checkouts at once may wait
    # longer than a shopper's 20 s bound (tests/api/test_checkout_paths.py tests the bound).
    async with open_shop(
        sessions, dev_server_env, couriers_url, bank_emulator, update_wait_seconds=120
    ) as shop:
        await _race(shop)


async def _race(shop: Shop) -> None:
    race = await prepare_race(shop.sessions)
    tokens = await logged_in(shop.sessions, race)

    async def shopper(token: str) -> str:
        async with httpx.AsyncClient(
            transport=shop.http._transport,
            base_url="http://shop.test",
            cookies={"sessionId": token},
        ) as http:
            return (await attempt(http, race)).outcome

    outcomes = await asyncio.gather(*(shopper(t) for t in tokens))

    assert outcomes.count("PAID") == UNITS, outcomes
    assert set(outcomes) == {"PAID", "process 409"}, outcomes
    await assert_race_settled(shop.sessions, race)
