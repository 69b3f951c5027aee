"""What the stores hold of a product, read straight from the database."""

from __future__ import annotations

from sqlalchemy import text

from core.db import SessionFactory, transaction


async def stock_of(sessions: SessionFactory, product_id: int) -> tuple[int, int]:
    """(units, reserved units) of the product over every store."""
    async with transaction(sessions) as session:
        row = (
            await (await session.connection()).execute(
                text("SELECT SUM(quantity), SUM(reserved) FROM store_stock WHERE product_id = :p"),
                {"p": product_id},
            )
        ).one()
    return int(row[0]), int(row[1])
