"""store, part two: holding stock for checkouts, confirming it for paid orders, giving it back.

Every operation is keyed by the order id and idempotent, so a retried activity changes nothing
twice. Units are taken with conditional updates (`quantity - reserved >= n`), so concurrent
checkouts of the last units can never take stock below zero on SQLite or PostgreSQL.

A confirmed sale is counted in `store_product.sold` (the catalogue's popularity) in the same
transaction, and a sale given back (a failed confirmation's undo, a paid order cancelled or
returned from the pickup point) is counted out again: `sold` is net units sold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import TextClause, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import get_or_create
from core.errors import OutOfStockError
from models.store import HoldState, PickingCase, StockHold


async def holds_of(*, session: AsyncSession, order_id: str) -> list[StockHold]:
    """The order's holds, in any state."""
    found = await session.exec(
        select(StockHold).where(StockHold.order_id == order_id).order_by(col(StockHold.id))
    )
    return list(found.all())


async def hold_stock(
    *, session: AsyncSession, order_id: str, lines: Sequence[tuple[int, int]]
) -> list[StockHold]:
    """Hold (product id, units) for the order, taking from the stores with most units first.

    All or nothing: OutOfStockError (and the caller's rollback) if any line cannot be covered.
    Holding again an order that already holds stock returns its live holds unchanged.
    """
    live = [
        h
        for h in await holds_of(session=session, order_id=order_id)
        if h.state != HoldState.RELEASED
    ]
    if live:
        return live
    # A retry after a release starts over: the old rows are reused by the unique key.
    held: list[StockHold] = []
    for product_id, wanted in lines:
        rows = await (await session.connection()).execute(
            text(
                "SELECT store_id, quantity - reserved FROM store_stock"
                " WHERE product_id = :p AND quantity - reserved > 0"
                " ORDER BY quantity - reserved DESC, store_id"
            ),
            {"p": product_id},
        )
        remaining = wanted
        for store_id, available in rows.all():
            take = min(remaining, int(available))
            taken = await (await session.connection()).execute(
                text(
                    "UPDATE store_stock SET reserved = reserved + :n"
                    " WHERE product_id = :p AND store_id = :s AND quantity - reserved >= :n"
                ),
                {"n": take, "p": product_id, "s": store_id},
            )
            if taken.rowcount != 1:
                continue  # someone took these units a moment ago; try the next store
            hold, _ = await get_or_create(
                session,
                StockHold,
                {"quantity": take, "state": HoldState.HELD},
                order_id=order_id,
                product_id=product_id,
                store_id=store_id,
            )
            hold.quantity, hold.state = take, HoldState.HELD
            session.add(hold)
            held.append(hold)
            remaining -= take
            if remaining == 0:
                break
        if remaining > 0:
            raise OutOfStockError(f"Товара {product_id} не хватает: недостаёт {remaining} шт.")
    await session.flush()
    return held


# `store_product.sold`, the popularity the catalogue sorts by; never below zero on the way down,
# should a sale be given back that predates the counter.
_SOLD_MORE = text("UPDATE store_product SET sold = sold + :n WHERE id = :p")
_SOLD_LESS = text(
    "UPDATE store_product SET sold = CASE WHEN sold > :n THEN sold - :n ELSE 0 END WHERE id = :p"
)


async def _count_sales(
    session: AsyncSession, holds: Iterable[StockHold], statement: TextClause
) -> None:
    """Count the holds' units in (or out of) the products' `sold`: one UPDATE per product, in
    product id order and after every stock row, so two checkouts of one product never wait on
    each other's rows crosswise."""
    units: Counter[int] = Counter()
    for hold in holds:
        units[hold.product_id] += hold.quantity
    conn = await session.connection()
    for product_id in sorted(units):
        await conn.execute(statement, {"n": units[product_id], "p": product_id})


async def release_stock(*, session: AsyncSession, order_id: str) -> int:
    """Give the order's stock back: held units stop being reserved, confirmed units return to
    the shelf and are no longer counted as sold. Returns how many units came back; 0 when there
    was nothing to release."""
    returned = 0
    unsold: list[StockHold] = []
    for hold in await holds_of(session=session, order_id=order_id):
        if hold.state == HoldState.HELD:
            statement = "UPDATE store_stock SET reserved = reserved - :n"
        elif hold.state == HoldState.CONFIRMED:
            statement = "UPDATE store_stock SET quantity = quantity + :n"
            unsold.append(hold)
        else:
            continue
        await (await session.connection()).execute(
            text(f"{statement} WHERE product_id = :p AND store_id = :s"),
            {"n": hold.quantity, "p": hold.product_id, "s": hold.store_id},
        )
        hold.state = HoldState.RELEASED
        session.add(hold)
        returned += hold.quantity
    await _count_sales(session, unsold, _SOLD_LESS)
    picking = (
        await session.exec(select(PickingCase).where(PickingCase.order_id == order_id))
    ).first()
    if picking is not None:
        picking.status = "CANCELED"
        session.add(picking)
    await session.flush()
    return returned


async def confirm_stock(*, session: AsyncSession, order_id: str) -> PickingCase:
    """Turn the order's holds into a sale, counted in the products' `sold`, and open its picking
    case (idempotent: only holds still HELD are sold, so a retry counts nothing twice)."""
    holds = await holds_of(session=session, order_id=order_id)
    if not any(h.state in (HoldState.HELD, HoldState.CONFIRMED) for h in holds):
        raise OutOfStockError("Резерв товара истёк: оформите заказ заново")
    selling = [hold for hold in holds if hold.state == HoldState.HELD]
    for hold in selling:
        await (await session.connection()).execute(
            text(
                "UPDATE store_stock SET quantity = quantity - :n, reserved = reserved - :n"
                " WHERE product_id = :p AND store_id = :s"
            ),
            {"n": hold.quantity, "p": hold.product_id, "s": hold.store_id},
        )
        hold.state = HoldState.CONFIRMED
        session.add(hold)
    await _count_sales(session, selling, _SOLD_MORE)
    case, _ = await get_or_create(session, PickingCase, {"status": "OPEN"}, order_id=order_id)
    await session.flush()
    return case
