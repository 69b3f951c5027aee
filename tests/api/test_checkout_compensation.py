"""A failure at each confirmation step after the money moved: every step is undone in reverse,
so stock and money end exactly as before and the order is FAILED with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory, transaction
from services import billing
from tests.conftest import BankEmulator
from tests.support.auth import login_shopper
from tests.support.checkout import balance, fund, post, start
from tests.support.orders import in_stock
from tests.support.sabotage import failing
from tests.support.shop import Shop, open_shop
from tests.support.stock import stock_of


@pytest.mark.parametrize(
    ("step", "when"),
    [
        ("store.confirm_stock", lambda _: True),
        ("delivery.open_case", lambda _: True),
        ("order.finish_checkout", lambda data: data.status == "PAID"),
    ],
)
async def test_failure_after_payment_returns_stock_and_money(
    seeded_sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
    step: str,
    when: Callable[[Any], bool],
) -> None:
    async with open_shop(
        seeded_sessions, dev_server_env, couriers_url, bank_emulator, sabotage=failing(step, when)
    ) as shop:
        await login_shopper(shop)
        await check_full_undo(shop, step)


async def check_full_undo(shop: Shop, step: str) -> None:
    (product,) = await in_stock(shop.http, count=1)
    await fund(shop, 50_000)
    stock_before = await stock_of(shop.sessions, product["id"])
    started = await start(shop, product["id"], 2)
    oid = started["id"]
    chosen = await post(
        shop.http,
        f"/checkout/{oid}/delivery",
        {"kind": "COURIER", "address": "Москва, ул. Арбат, 10", "companyName": "Shopflow Курьер"},
    )
    cost = chosen.json()["delivery"]["cost"]
    await post(shop.http, f"/checkout/{oid}/confirm-delivery-cost", {"cost": cost})
    slots_before = await booked_slots(shop.sessions)

    result = (await post(shop.http, f"/checkout/{oid}/pay", {"method": "WALLET"})).json()

    assert result["step"] == "FAILED"
    assert step in result["failureReason"]
    assert await balance(shop) == 50_000, "the payment came back"
    assert await stock_of(shop.sessions, product["id"]) == stock_before, "every unit is back"
    assert await booked_slots(shop.sessions) == slots_before, "the courier window is free again"
    order = (await shop.http.get("/order/get", params={"orderId": oid})).json()
    assert order["status"] == "FAILED"
    assert order["failureReason"] == result["failureReason"]
    me = (await shop.http.get("/auth/auth")).json()["username"]
    async with transaction(shop.sessions) as session:
        log = await billing.transactions(session=session, username=me)
    kinds = [(entry.kind.value, entry.amount_kopecks) for entry in log]
    paid = round(result["total"] * 100)
    assert kinds[1:] == [("DEBIT", paid), ("REFUND", paid)]
    await shop.env.client.get_workflow_handle(
        f"checkout-{oid}"
    ).result()  # the mail is its last step
    assert any("не оформлен" in mail.subject for mail in shop.mailer.sent)


async def booked_slots(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        conn = await session.connection()
        return int(
            (
                await conn.execute(text("SELECT COALESCE(SUM(reserved), 0) FROM delivery_slot"))
            ).scalar_one()
        )
