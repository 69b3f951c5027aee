"""Checkout's stock and money steps, retried and raced, on SQLite and PostgreSQL: a retried
activity never moves stock or money twice, and a balance never goes below zero."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.billing import BillingActivities
from activities.store import StoreActivities
from core.db import SessionFactory, transaction
from models.payloads import HoldInput, OrderLine, OrderRef, WalletMoveInput
from services import billing, store
from tests.support.stock import stock_of


async def _product(sessions: SessionFactory, stock: dict[str, int]) -> int:
    async with transaction(sessions) as session:
        ids = {}
        for name in stock:
            created = await store.add_store(session=session, name=name, address=f"Москва, {name}")
            assert created.id is not None
            ids[name] = created.id
        category = await store.add_category(session=session, name="Кухня", slug="kitchen")
        assert category.id is not None
        (product_id,) = await store.add_products(
            session=session,
            products=[
                store.NewProduct(
                    name="Чайник",
                    description="Стальной",
                    price_kopecks=100_00,
                    category_id=category.id,
                    stock={ids[name]: units for name, units in stock.items()},
                )
            ],
        )
    return product_id


async def test_holding_confirming_and_releasing_twice_moves_stock_once(
    sessions: SessionFactory,
) -> None:
    env = ActivityEnvironment()
    activities = StoreActivities(sessions)
    product_id = await _product(sessions, {"A": 3, "B": 5})
    hold = HoldInput("order-1", [OrderLine(product_id, 6)])

    assert (await env.run(activities.hold_stock, hold)).units == 6
    assert (await env.run(activities.hold_stock, hold)).units == 6  # a retry
    assert await stock_of(sessions, product_id) == (8, 6), "held from the fuller store first"

    await env.run(activities.confirm_stock, OrderRef("order-1"))
    await env.run(activities.confirm_stock, OrderRef("order-1"))
    assert await stock_of(sessions, product_id) == (2, 0)

    assert (await env.run(activities.release_stock, OrderRef("order-1"))).units == 6
    assert (await env.run(activities.release_stock, OrderRef("order-1"))).units == 0
    assert await stock_of(sessions, product_id) == (8, 0), "a compensated sale returns every unit"


async def test_a_hold_is_all_or_nothing(sessions: SessionFactory) -> None:
    env = ActivityEnvironment()
    activities = StoreActivities(sessions)
    product_id = await _product(sessions, {"A": 2, "B": 1})
    with pytest.raises(ApplicationError) as caught:
        await env.run(activities.hold_stock, HoldInput("order-2", [OrderLine(product_id, 4)]))
    assert caught.value.type == "OutOfStockError"
    assert await stock_of(sessions, product_id) == (3, 0)


async def test_concurrent_holds_never_oversell(sessions: SessionFactory) -> None:
    activities = StoreActivities(sessions)
    product_id = await _product(sessions, {"A": 4, "B": 3})

    async def hold(n: int) -> bool:
        try:
            await ActivityEnvironment().run(
                activities.hold_stock, HoldInput(f"order-{n}", [OrderLine(product_id, 2)])
            )
        except ApplicationError:
            return False
        return True

    outcomes = await asyncio.gather(*(hold(n) for n in range(8)))
    quantity, reserved = await stock_of(sessions, product_id)
    assert quantity == 7
    assert reserved == 2 * outcomes.count(True)
    assert reserved <= quantity
    assert outcomes.count(True) == 3, "7 units cover three orders of 2"


async def _wallet(sessions: SessionFactory, roubles: int) -> None:
    async with transaction(sessions) as session:
        await billing.open_wallet(session=session, username="alice")
        await billing.credit_wallet(
            session=session,
            username="alice",
            amount_kopecks=roubles * 100,
            idempotency_key="fund",
            reference="test",
        )


async def test_a_replayed_debit_or_refund_moves_money_once(sessions: SessionFactory) -> None:
    env = ActivityEnvironment()
    activities = BillingActivities(sessions)
    await _wallet(sessions, 1000)
    debit = WalletMoveInput("alice", 300_00, "payment-order-o1-1", "order:o1")
    refund = WalletMoveInput("alice", 300_00, "refund-order-o1-1", "order:o1")

    first = await env.run(activities.debit_wallet, debit)
    again = await env.run(activities.debit_wallet, debit)
    assert again == first
    assert first.balance_after_kopecks == 700_00
    await env.run(activities.refund_wallet, refund)
    back = await env.run(activities.refund_wallet, refund)
    assert back.balance_after_kopecks == 1000_00
    async with transaction(sessions) as session:
        log = await billing.transactions(session=session, username="alice")
    assert [(e.kind.value, e.amount_kopecks) for e in log] == [
        ("CREDIT", 1000_00),
        ("DEBIT", 300_00),
        ("REFUND", 300_00),
    ]


async def test_twenty_concurrent_debits_never_overdraw(sessions: SessionFactory) -> None:
    activities = BillingActivities(sessions)
    await _wallet(sessions, 1000)

    async def debit(n: int) -> str:
        try:
            await ActivityEnvironment().run(
                activities.debit_wallet, WalletMoveInput("alice", 150_00, f"k{n}", "race")
            )
        except ApplicationError as exc:
            return exc.type or "?"
        return "PAID"

    outcomes = await asyncio.gather(*(debit(n) for n in range(20)))
    assert set(outcomes) == {"PAID", "InsufficientFundsError"}
    async with transaction(sessions) as session:
        wallet = await billing.get_wallet(session=session, username="alice")
    assert outcomes.count("PAID") == 6, "1000 ₽ covers six debits of 150 ₽"
    assert wallet.balance_kopecks == 100_00


async def test_a_debit_whose_twin_is_in_flight_is_retried_and_finds_the_first(
    sessions: SessionFactory, backend: str
) -> None:
    """A retried debit that meets its first attempt still in flight (the same key, not yet
    committed) must be retried, not reported as a decline: the retry finds the first debit."""
    if backend != "postgres":
        pytest.skip("SQLite runs one writer at a time: a twin is never seen in flight there")
    activities = BillingActivities(sessions)
    await _wallet(sessions, 1000)
    move = WalletMoveInput("alice", 300_00, "payment-order-o1-v0-1", "order:o1")
    async with sessions() as twin, twin.begin():
        first = await billing.debit_wallet(
            session=twin,
            username="alice",
            amount_kopecks=move.amount_kopecks,
            idempotency_key=move.idempotency_key,
            reference=move.reference,
        )
        racing = asyncio.ensure_future(ActivityEnvironment().run(activities.debit_wallet, move))
        await asyncio.sleep(0.5)
        assert not racing.done(), "the retry waits for the twin's row"
    with pytest.raises(ApplicationError) as in_flight:
        await racing
    assert in_flight.value.type == "OperationInFlightError"
    assert not in_flight.value.non_retryable, "retried until the first result is found"
    retried = await ActivityEnvironment().run(activities.debit_wallet, move)
    assert retried.transaction_id == first.id
    async with transaction(sessions) as session:
        wallet = await billing.get_wallet(session=session, username="alice")
    assert wallet.balance_kopecks == 700_00, "one debit"
