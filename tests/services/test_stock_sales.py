"""Units sold (popularity) follow the stock service: a confirmed sale counts, a retry does not
count twice, a hold never confirmed never counts, and a sale given back is counted out."""

from __future__ import annotations

from sqlalchemy import text

from core.db import SessionFactory, transaction
from services import stock, store


async def _catalogue(sessions: SessionFactory) -> tuple[int, int]:
    """Two products: one stocked in two stores (so a hold splits), one in one."""
    async with transaction(sessions) as session:
        first = await store.add_store(session=session, name="Тверская", address="Москва, 1")
        second = await store.add_store(session=session, name="Невский", address="СПб, 2")
        kitchen = await store.add_category(session=session, name="Кухня", slug="kitchen")
        assert first.id
        assert second.id
        assert kitchen.id
        ids = await store.add_products(
            session=session,
            products=[
                store.NewProduct("Чайник", "", 99_000, kitchen.id, {first.id: 2, second.id: 3}),
                store.NewProduct("Тостер", "", 199_000, kitchen.id, {first.id: 5}),
            ],
        )
    return ids[0], ids[1]


async def _sold(sessions: SessionFactory) -> list[int]:
    async with transaction(sessions) as session:
        rows = await (await session.connection()).execute(
            text("SELECT sold FROM store_product ORDER BY id")
        )
        return [row[0] for row in rows]


async def _run(sessions: SessionFactory, step: str, order_id: str, **more: object) -> None:
    async with transaction(sessions) as session:
        await getattr(stock, step)(session=session, order_id=order_id, **more)


async def test_a_confirmed_sale_counts_once_and_a_sale_given_back_counts_out(
    sessions: SessionFactory,
) -> None:
    kettle, toaster = await _catalogue(sessions)
    assert await _sold(sessions) == [0, 0]

    await _run(sessions, "hold_stock", "order-1", lines=[(kettle, 4), (toaster, 1)])
    assert await _sold(sessions) == [0, 0], "a hold is not a sale"
    await _run(sessions, "confirm_stock", "order-1")
    assert await _sold(sessions) == [4, 1], "the kettle's two stores counted together"
    await _run(sessions, "confirm_stock", "order-1")  # a retried activity
    assert await _sold(sessions) == [4, 1]

    await _run(sessions, "hold_stock", "order-2", lines=[(toaster, 2)])
    await _run(sessions, "release_stock", "order-2")  # «back to the cart»: never sold
    assert await _sold(sessions) == [4, 1]

    await _run(sessions, "release_stock", "order-1")  # cancelled and refunded after payment
    assert await _sold(sessions) == [0, 0]
    await _run(sessions, "release_stock", "order-1")
    assert await _sold(sessions) == [0, 0]


async def test_giving_back_never_takes_sold_below_zero(sessions: SessionFactory) -> None:
    kettle, _ = await _catalogue(sessions)
    await _run(sessions, "hold_stock", "order-1", lines=[(kettle, 2)])
    await _run(sessions, "confirm_stock", "order-1")
    async with transaction(sessions) as session:  # a count that predates this sale, say
        await (await session.connection()).execute(
            text("UPDATE store_product SET sold = 1 WHERE id = :id"), {"id": kettle}
        )
    await _run(sessions, "release_stock", "order-1")
    assert await _sold(sessions) == [0, 0]
