"""order service on SQLite and PostgreSQL: the cart, versions, states and stock limits."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from core.db import SessionFactory, transaction
from core.errors import ConflictError, NotFoundError, OutOfStockError, StaleVersionError
from models.order import Order, OrderStatus
from services import order

KETTLE = order.Line(product_id=1, name="Чайник", price_kopecks=299_000, quantity=1, available=5)
PAN = order.Line(product_id=2, name="Сковорода", price_kopecks=150_050, quantity=2, available=10)


def line(base: order.Line, quantity: int, available: int | None = None) -> order.Line:
    return order.Line(
        base.product_id, base.name, base.price_kopecks, quantity, available or base.available
    )


async def test_place_creates_a_new_order_with_priced_items(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        view = await order.place_order(session=session, username="alice", lines=[KETTLE, PAN])
    public = view.public()
    assert public.status is OrderStatus.NEW
    assert public.version == 0
    assert [(i.product.name, i.quantity) for i in public.order_items] == [
        ("Чайник", 1),
        ("Сковорода", 2),
    ]
    assert str(public.total) == "5991.00"


async def test_place_with_a_client_id_is_idempotent_and_ids_are_not_shared(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        first = await order.place_order(
            session=session, username="alice", lines=[KETTLE], order_id="client-id-1"
        )
    async with transaction(sessions) as session:
        again = await order.place_order(
            session=session, username="alice", lines=[PAN], order_id="client-id-1"
        )
        with pytest.raises(ConflictError):
            await order.place_order(
                session=session, username="bob", lines=[PAN], order_id="client-id-1"
            )
    assert again.public() == first.public()


async def test_a_shopper_has_one_cart_even_when_two_tabs_race(sessions: SessionFactory) -> None:
    async def place() -> str:
        try:
            async with transaction(sessions) as session:
                await order.place_order(session=session, username="alice", lines=[KETTLE])
        except ConflictError:
            return "refused"
        return "placed"

    outcomes = await asyncio.gather(*(place() for _ in range(4)))
    assert outcomes.count("placed") == 1
    async with transaction(sessions) as session:
        assert len((await session.exec(select(Order))).all()) == 1


async def test_adjust_replaces_items_and_bumps_the_version(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        placed = await order.place_order(session=session, username="alice", lines=[KETTLE])
    async with transaction(sessions) as session:
        adjusted = await order.adjust_order(
            session=session,
            username="alice",
            order_id=placed.order.id,
            version=0,
            lines=[line(KETTLE, 3), PAN, line(PAN, 1)],
        )
    assert adjusted.order.version == 1
    assert [(i.product_id, i.quantity) for i in adjusted.items] == [(1, 3), (2, 3)]


async def test_a_stale_version_is_refused_and_changes_nothing(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        placed = await order.place_order(session=session, username="alice", lines=[KETTLE])
    async with transaction(sessions) as session:
        await order.adjust_order(
            session=session, username="alice", order_id=placed.order.id, version=0, lines=[PAN]
        )
    with pytest.raises(StaleVersionError):
        async with transaction(sessions) as session:
            await order.adjust_order(
                session=session,
                username="alice",
                order_id=placed.order.id,
                version=0,
                lines=[KETTLE],
            )
    async with transaction(sessions) as session:
        current = await order.get_order(session=session, username="alice", order_id=placed.order.id)
    assert [i.product_id for i in current.items] == [2]
    assert current.order.version == 1


async def test_another_shoppers_order_does_not_exist_for_you(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        placed = await order.place_order(session=session, username="alice", lines=[KETTLE])
        with pytest.raises(NotFoundError):
            await order.get_order(session=session, username="bob", order_id=placed.order.id)
        with pytest.raises(NotFoundError):
            await order.adjust_order(
                session=session, username="bob", order_id=placed.order.id, version=0, lines=[PAN]
            )
        with pytest.raises(NotFoundError):
            await order.cancel_order(
                session=session, username="bob", order_id=placed.order.id, version=0
            )


async def test_quantities_stay_within_stock(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        with pytest.raises(OutOfStockError, match="не больше 5"):
            await order.place_order(session=session, username="alice", lines=[line(KETTLE, 6)])
        with pytest.raises(OutOfStockError, match="нет в наличии"):
            await order.place_order(
                session=session, username="alice", lines=[line(KETTLE, 1, available=-1)]
            )
        with pytest.raises(OutOfStockError):
            await order.place_order(
                session=session, username="alice", lines=[line(KETTLE, 3), line(KETTLE, 3)]
            )


async def test_add_to_cart_creates_then_adds_then_raises_quantity(sessions: SessionFactory) -> None:
    for item in (KETTLE, line(PAN, 1), KETTLE):
        async with transaction(sessions) as session:
            cart = await order.add_to_cart(session=session, username="alice", line=item)
    assert [(i.product_id, i.quantity) for i in cart.items] == [(1, 2), (2, 1)]
    assert cart.order.version == 2


async def test_a_cancelled_order_cannot_be_changed_and_frees_the_cart(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        placed = await order.place_order(session=session, username="alice", lines=[KETTLE])
        cancelled = await order.cancel_order(
            session=session, username="alice", order_id=placed.order.id, version=0
        )
        assert cancelled.order.status is OrderStatus.CANCELED
        with pytest.raises(ConflictError, match="CANCELED"):
            await order.adjust_order(
                session=session, username="alice", order_id=placed.order.id, version=1, lines=[PAN]
            )
        assert await order.open_order(session=session, username="alice") is None
        fresh = await order.place_order(session=session, username="alice", lines=[PAN])
    assert fresh.order.id != placed.order.id
