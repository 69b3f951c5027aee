"""50 shoppers check out the last 10 units of a product at once: exactly 10 orders are paid,
stock never goes below zero, and every other shopper's money is untouched."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory, transaction
from services import auth, billing, delivery, notification, store
from tests.conftest import BankEmulator
from tests.support.shop import Shop, open_shop
from tests.support.stock import stock_of

SHOPPERS = 50
UNITS = 10
PRICE_KOPECKS = 1_990_00
FUNDS_KOPECKS = 5_000_00


async def _prepare(shop: Shop) -> tuple[int, int, list[str]]:
    """One scarce product (6 + 4 units in two stores), a pickup point, 50 funded shoppers."""
    password_hash = auth.hash_password("correct horse")
    async with transaction(shop.sessions) as session:
        first = await store.add_store(session=session, name="A", address="Москва, 1")
        second = await store.add_store(session=session, name="B", address="Москва, 2")
        category = await store.add_category(session=session, name="Кухня", slug="kitchen")
        assert first.id
        assert second.id
        assert category.id
        (product_id,) = await store.add_products(
            session=session,
            products=[
                store.NewProduct(
                    name="Чайник последний",
                    description="Осталось 10 штук",
                    price_kopecks=PRICE_KOPECKS,
                    category_id=category.id,
                    stock={first.id: 6, second.id: 4},
                )
            ],
        )
        point = await delivery.add_pickup_point(session=session, name="ПВЗ", address="Москва, 3")
        assert point.id is not None
        tokens = []
        for n in range(SHOPPERS):
            name = f"racer{n:02d}"
            credential = await auth.stash_credential(session=session, password_hash=password_hash)
            await auth.create_user(
                session=session,
                username=name,
                first_name="Гонщик",
                last_name="",
                email=f"{name}@example.ru",
                phone="+79000000000",
                credential_id=credential,
            )
            await billing.open_wallet(session=session, username=name)
            await billing.credit_wallet(
                session=session,
                username=name,
                amount_kopecks=FUNDS_KOPECKS,
                idempotency_key=f"fund-{name}",
                reference="test",
            )
            await notification.create_account(
                session=session, username=name, email=f"{name}@example.ru", phone="+79000000000"
            )
            _, token = await auth.login(
                session=session,
                username=name,
                password="correct horse",
                old_token=None,
                ttl=timedelta(hours=1),
            )
            tokens.append(token)
    return product_id, point.id, tokens


async def _shopper(shop: Shop, token: str, product_id: int, point_id: int) -> str:
    """Place, check out, pick up, pay by wallet; the outcome as the shopper would see it."""
    app_transport = shop.http._transport  # the same ASGI app, a client per shopper
    async with httpx.AsyncClient(
        transport=app_transport, base_url="http://shop.test", cookies={"sessionId": token}
    ) as http:
        placed = await http.post(
            "/order/place", json={"orderItems": [{"product": {"id": product_id}, "quantity": 1}]}
        )
        if placed.status_code != 200:
            return f"place {placed.status_code}"
        oid = placed.json()["id"]
        process = await http.put("/order/process", json={"id": oid, "version": 0})
        if process.status_code != 200:
            return f"process {process.status_code}"
        await http.post(
            f"/checkout/{oid}/delivery", json={"kind": "PICKUP", "pickupPointId": point_id}
        )
        paid = await http.post(f"/checkout/{oid}/pay", json={"method": "WALLET"})
        return str(paid.json().get("step"))


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
    product_id, point_id, tokens = await _prepare(shop)

    outcomes = await asyncio.gather(*(_shopper(shop, t, product_id, point_id) for t in tokens))

    assert outcomes.count("PAID") == UNITS, outcomes
    assert set(outcomes) == {"PAID", "process 409"}, outcomes
    quantity, reserved = await stock_of(shop.sessions, product_id)
    async with transaction(shop.sessions) as session:
        conn = await session.connection()
        balances = (
            (
                await conn.execute(
                    text("SELECT balance_kopecks FROM billing_wallet ORDER BY username")
                )
            )
            .scalars()
            .all()
        )
        statuses = (await conn.execute(text("SELECT status FROM order_order"))).scalars().all()
    assert (quantity, reserved) == (0, 0)
    assert sorted(balances) == sorted(
        [FUNDS_KOPECKS - PRICE_KOPECKS] * UNITS + [FUNDS_KOPECKS] * (SHOPPERS - UNITS)
    )
    assert sorted(statuses) == sorted(["PAID"] * UNITS + ["NEW"] * (SHOPPERS - UNITS))
