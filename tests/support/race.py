"""Fifty shoppers for the last ten units: the scarce product, the funded shoppers (put straight
into the tables, as the registration workflow would), one shopper's attempt over HTTP, and what
the database must hold afterwards. tests/topology races them through the store's processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import text

from core.db import SessionFactory, transaction
from services import auth, delivery, store
from tests.support.stock import stock_of
from workers.seed import add_funded_shopper

SHOPPERS = 50
UNITS = 10
PRICE_KOPECKS = 1_990_00
FUNDS_KOPECKS = 5_000_00
PASSWORD = "correct horse"
PREFIX = "racer"  # every shopper's login starts with it


@dataclass(frozen=True)
class Race:
    product_id: int
    point_id: int
    usernames: list[str]  # each shopper's login (the password is PASSWORD)


@dataclass(frozen=True)
class Attempt:
    """What one shopper saw: "PAID", the checkout's final step, or "<step> <status>" for the
    request that refused them (`refusal` is that answer)."""

    outcome: str
    refusal: httpx.Response | None = None


async def prepare_race(sessions: SessionFactory) -> Race:
    """One scarce product (6 + 4 units in two stores), a pickup point, 50 funded shoppers."""
    password_hash = auth.hash_password(PASSWORD)
    async with transaction(sessions) as session:
        first = await store.add_store(session=session, name="A", address="Москва, 1")
        second = await store.add_store(session=session, name="B", address="Москва, 2")
        category = await store.add_category(session=session, name="Кухня", slug="race-kitchen")
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
        usernames = [f"{PREFIX}{n:02d}" for n in range(SHOPPERS)]
        for name in usernames:
            await add_funded_shopper(
                session=session,
                username=name,
                password_hash=password_hash,
                first_name="Гонщик",
                last_name="",
                funds_kopecks=FUNDS_KOPECKS,
                reference="test",
            )
    return Race(product_id, point.id, usernames)


async def logged_in(sessions: SessionFactory, race: Race) -> list[str]:
    """A session of each shopper (the cookie `sessionId`), logged in through auth's service."""
    tokens = []
    async with transaction(sessions) as session:
        for name in race.usernames:
            _, token = await auth.login(
                session=session,
                username=name,
                password=PASSWORD,
                old_token=None,
                ttl=timedelta(hours=1),
            )
            tokens.append(token)
    return tokens


async def attempt(http: httpx.AsyncClient, race: Race) -> Attempt:
    """Place, check out, pick up, pay by wallet, on `http` (one shopper's session)."""
    placed = await http.post(
        "/order/place", json={"orderItems": [{"product": {"id": race.product_id}, "quantity": 1}]}
    )
    if placed.status_code != 200:
        return Attempt(f"place {placed.status_code}", placed)
    oid = placed.json()["id"]
    process = await http.put("/order/process", json={"id": oid, "version": 0})
    if process.status_code != 200:
        return Attempt(f"process {process.status_code}", process)
    chosen = await http.post(
        f"/checkout/{oid}/delivery", json={"kind": "PICKUP", "pickupPointId": race.point_id}
    )
    if chosen.status_code != 200:
        return Attempt(f"delivery {chosen.status_code}", chosen)
    paid = await http.post(f"/checkout/{oid}/pay", json={"method": "WALLET"})
    return Attempt(str(paid.json().get("step")), None if paid.status_code == 200 else paid)


async def assert_race_settled(sessions: SessionFactory, race: Race) -> None:
    """Stock 0 (none held), ten orders paid and forty never checked out, and the money: ten debits
    of the price, every other wallet whole (anything taken from it refunded)."""
    quantity, reserved = await stock_of(sessions, race.product_id)
    assert (quantity, reserved) == (0, 0)
    racers = {"p": f"{PREFIX}%"}
    async with transaction(sessions) as session:
        conn = await session.connection()
        balances = (
            (
                await conn.execute(
                    text(
                        "SELECT balance_kopecks FROM billing_wallet WHERE username LIKE :p"
                        " ORDER BY username"
                    ),
                    racers,
                )
            )
            .scalars()
            .all()
        )
        statuses = (
            (
                await conn.execute(
                    text("SELECT status FROM order_order WHERE username LIKE :p"), racers
                )
            )
            .scalars()
            .all()
        )
        moved = (
            await conn.execute(
                text(
                    "SELECT w.username, t.kind, t.amount_kopecks FROM billing_transaction t"
                    " JOIN billing_wallet w ON w.id = t.wallet_id"
                    " WHERE w.username LIKE :p AND t.kind IN ('DEBIT', 'REFUND')"
                ),
                racers,
            )
        ).all()
    assert sorted(balances) == sorted(
        [FUNDS_KOPECKS - PRICE_KOPECKS] * UNITS + [FUNDS_KOPECKS] * (SHOPPERS - UNITS)
    )
    assert sorted(statuses) == sorted(["PAID"] * UNITS + ["NEW"] * (SHOPPERS - UNITS))
    debits = [amount for _, kind, amount in moved if kind == "DEBIT"]
    refunds = [amount for _, kind, amount in moved if kind == "REFUND"]
    assert sum(debits) - sum(refunds) == UNITS * PRICE_KOPECKS, moved
    kept: dict[str, int] = {}
    for username, kind, amount in moved:
        kept[username] = kept.get(username, 0) + (amount if kind == "DEBIT" else -amount)
    assert sorted(v for v in kept.values() if v) == [PRICE_KOPECKS] * UNITS, moved
