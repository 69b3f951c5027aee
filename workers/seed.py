"""`shopflow seed`: the sample catalogue (stores, pickup points, courier slots, products with
stock), a generator of large catalogues for benchmarks (`--products 1000000`), and shoppers with
money in their wallets for load tests and benchmarks (`add_funded_shopper`)."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import SessionFactory, create_engine, create_session_factory, transaction
from models.store import Store
from services import auth, billing, delivery, notification, store
from workers.catalog_data import CATEGORIES, COLOURS, DEMAND, PICKUP_POINTS, STORES

SAMPLE_PRODUCTS = sum(len(c.kinds) * len(c.brands) for c in CATEGORIES)  # one of each
BATCH = 2000


@dataclass(frozen=True)
class SeedReport:
    stores: int
    products: int
    seconds: float
    skipped: bool = False


def _price(rng: random.Random, low: int, high: int) -> int:
    """A price in kopecks between `low` and `high` roubles ending in 90 ₽, as shops price."""
    roubles = rng.randint(low // 100, high // 100) * 100 + 90
    return min(max(roubles, low), high) * 100


def generate(
    count: int, *, category_ids: dict[str, int], store_ids: list[int], seed: int = 7
) -> Iterator[store.NewProduct]:
    """`count` products: each kind of each brand once, then new models of them (deterministic)."""
    rng = random.Random(seed)
    combos = [(c, kind, brand) for c in CATEGORIES for kind in c.kinds for brand in c.brands]
    for n in range(count):
        category, kind, brand = combos[n % len(combos)]
        model = f"{brand[:2].upper()}-{rng.randint(100, 9999)}"
        colour = rng.choice(COLOURS)
        features = rng.sample(kind.features, k=min(len(kind.features), rng.randint(2, 4)))
        name = f"{kind.name} {brand} {model}" + (f", {colour}" if n % 3 == 0 else "")
        description = (
            f"{kind.name} {brand} {model}. {features[0].capitalize()}, "
            f"{', '.join(features[1:])}. Цвет: {colour}. Гарантия {rng.choice((6, 12, 24))} мес."
        )
        stock = {
            store_id: (0 if rng.random() < 0.3 else rng.randint(1, 40)) for store_id in store_ids
        }
        yield store.NewProduct(
            name=name,
            description=description,
            price_kopecks=_price(rng, *kind.price_roubles),
            category_id=category_ids[category.slug],
            stock=stock,
        )


def sales(rng: random.Random, demand: int) -> int:
    """Units sold of one product whose category's typical product sells `demand`: a long tail
    around it (a few bestsellers, many modest sellers), and one in ten not sold yet."""
    if rng.random() < 0.1:
        return 0
    return max(1, round(demand * rng.lognormvariate(0.0, 0.9)))


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.started = total, enabled, time.monotonic()

    def show(self, done: int) -> None:
        if not self.enabled:
            return
        share = done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        elapsed = time.monotonic() - self.started
        sys.stderr.write(
            f"\r[{bar:<30}] {share:6.1%} {done}/{self.total} products, {elapsed:5.1f} s"
        )
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


async def seed_catalog(
    sessions: SessionFactory,
    *,
    products: int = SAMPLE_PRODUCTS,
    today: date | None = None,
    progress: bool = False,
) -> SeedReport:
    """Load the catalogue into an empty store; does nothing when stores already exist."""
    started = time.monotonic()
    async with transaction(sessions) as session:
        existing = (await session.exec(select(func.count()).select_from(Store))).one()
        if existing:
            return SeedReport(stores=existing, products=0, seconds=0.0, skipped=True)
        store_ids = []
        for name, address in STORES:
            created = await store.add_store(session=session, name=name, address=address)
            assert created.id is not None
            store_ids.append(created.id)
        category_ids = {}
        for data in CATEGORIES:
            category = await store.add_category(session=session, name=data.name, slug=data.slug)
            assert category.id is not None
            category_ids[data.slug] = category.id
        for name, address in PICKUP_POINTS:
            await delivery.add_pickup_point(session=session, name=name, address=address)
        await delivery.open_slots(
            session=session, first_day=today or date.today(), days=14, capacity=10
        )
    bar = Progress(products, progress)
    batch: list[store.NewProduct] = []
    done = 0
    # A stream of its own: the products (and the tests that know them) stay as they were.
    sales_rng = random.Random(11)
    demand = {category_ids[slug]: units for slug, units in DEMAND.items()}
    for product in generate(products, category_ids=category_ids, store_ids=store_ids):
        batch.append(product)
        if len(batch) == BATCH:
            done += await _insert(sessions, batch, sales_rng, demand)
            bar.show(done)
            batch = []
    done += await _insert(sessions, batch, sales_rng, demand)
    bar.show(done)
    return SeedReport(stores=len(store_ids), products=done, seconds=time.monotonic() - started)


async def seed_catalog_at(database_url: str, **options: Any) -> SeedReport:
    """`seed_catalog` on the database at `database_url` (engine opened and closed here)."""
    engine = create_engine(database_url)
    try:
        return await seed_catalog(create_session_factory(engine), **options)
    finally:
        await engine.dispose()


async def _insert(
    sessions: SessionFactory,
    batch: list[store.NewProduct],
    sales_rng: random.Random,
    demand: dict[int, int],
) -> int:
    """The batch's products with their stock, and how many units each has sold so far."""
    if not batch:
        return 0
    async with transaction(sessions) as session:
        ids = await store.add_products(session=session, products=batch)
        sold = [
            {"id": pid, "sold": units}
            for pid, product in zip(ids, batch, strict=True)
            if (units := sales(sales_rng, demand.get(product.category_id, 100)))
        ]
        if sold:
            await (await session.connection()).execute(
                text("UPDATE store_product SET sold = :sold WHERE id = :id"), sold
            )
    return len(batch)


async def add_funded_shopper(
    *,
    session: AsyncSession,
    username: str,
    password_hash: str,
    first_name: str,
    last_name: str,
    funds_kopecks: int,
    reference: str,
) -> None:
    """A customer put straight into the tables, as registration leaves one (account, wallet,
    notification account; e-mail `<login>@example.ru`), with `funds_kopecks` in the wallet."""
    credential = await auth.stash_credential(session=session, password_hash=password_hash)
    email, phone = f"{username}@example.ru", "+79000000000"
    await auth.create_user(
        session=session,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        credential_id=credential,
    )
    await billing.open_wallet(session=session, username=username)
    await billing.credit_wallet(
        session=session,
        username=username,
        amount_kopecks=funds_kopecks,
        idempotency_key=f"fund-{username}",
        reference=reference,
    )
    await notification.create_account(session=session, username=username, email=email, phone=phone)
