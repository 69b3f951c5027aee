"""Products added for a test, each call in a store and a category of its own, and a clock the
search caches can be moved along by."""

from __future__ import annotations

from core.db import SessionFactory, transaction
from services import store


class Clock:
    """A monotonic clock a test moves by hand (`now += seconds`)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def add_products(sessions: SessionFactory, *names: str, units: int = 0) -> list[int]:
    """Products of these names ("Для дома", 990 ₽), `units` of each in a new store; their ids."""
    async with transaction(sessions) as session:
        shop = await store.add_store(session=session, name=f"Магазин {names[0]}", address="Москва")
        category = await store.add_category(
            session=session, name=f"Кухня {names[0]}", slug=names[0][:12]
        )
        assert shop.id
        assert category.id
        return await store.add_products(
            session=session,
            products=[
                store.NewProduct(
                    name=name,
                    description="Для дома",
                    price_kopecks=99_000,
                    category_id=category.id,
                    stock={shop.id: units},
                )
                for name in names
            ],
        )
