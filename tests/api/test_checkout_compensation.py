"""A failure at each confirmation step after the money moved: every step is undone in reverse,
so stock and money end exactly as before and the order is FAILED with the reason."""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory, transaction
from services import billing
from tests.api.conftest import Shop, login_shopper, open_shop
from tests.api.test_checkout_flow import balance, fund, post, start, stock_of
from tests.api.test_order_contract import in_stock
from tests.conftest import BankEmulator

Sabotage = Callable[[dict[str, list[Any]]], None]


def _stand_in(name: str, real: Callable[[Any], Awaitable[Any]], when: Callable[[Any], bool]) -> Any:
    async def stand_in(data: Any) -> Any:
        if when(data):
            raise ApplicationError(
                f"{name}: отказ (имитация)", type="ConflictError", non_retryable=True
            )
        return await real(data)

    hints = typing.get_type_hints(real)
    stand_in.__annotations__ = {"data": hints["data"], "return": hints["return"]}
    return activity.defn(name=name)(stand_in)


def failing(name: str, when: Callable[[Any], bool] = lambda _: True) -> Sabotage:
    """Swap the activity `name` for one that fails for good (when `when` says so)."""

    def swap(activities: dict[str, list[Any]]) -> None:
        for functions in activities.values():
            for index, real in enumerate(functions):
                if real.__temporal_activity_definition.name == name:
                    functions[index] = _stand_in(name, real, when)
                    return
        raise AssertionError(f"no activity {name}")

    return swap


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
    stock_before = await stock_of(shop, product["id"])
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
    assert await stock_of(shop, product["id"]) == stock_before, "every unit is back"
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
