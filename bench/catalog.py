"""Catalogues of N generated products for the benchmark: built once, then reused.

A catalogue is named by its product count and a fingerprint of the code that decides its rows
(migrations, the seed generator, the stemmer): change any of them and the next run rebuilds it.

- SQLite: built in a scratch folder under var/bench/, then moved to
  `var/bench/catalog-<N>-<fingerprint>.sqlite`; an older fingerprint of the same N is deleted.
- PostgreSQL: built in a uniquely named scratch database next to the one in --pg-url, then renamed
  to `shopflow_bench_<N>_<fingerprint>`; an older fingerprint of the same N is dropped.

With `cache=False` both are built fresh under unique names and removed when the benchmark ends.
A half-built catalogue never takes a cached name, so an interrupted build is simply redone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import URL, make_url, text

from core.db import create_engine, normalize_database_url
from workers.migrate import upgrade_async
from workers.seed import seed_catalog_at

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
DATA_SOURCES = ("migrations/versions", "workers/seed.py", "workers/catalog_data.py", "core/text.py")
Backend = Literal["sqlite", "postgres"]
log = logging.getLogger("bench.catalog")


@dataclass(frozen=True)
class Catalog:
    backend: Backend
    products: int
    url: str
    name: str  # file or database name, for the report
    build_seconds: float | None  # None when an earlier run's catalogue was reused


def fingerprint() -> str:
    """A short hash of every file that decides a built catalogue's rows."""
    digest = hashlib.sha256()
    for source in DATA_SOURCES:
        path = ROOT / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(ROOT).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:8]


@asynccontextmanager
async def catalog(
    backend: Backend, products: int, *, pg_url: str, cache: bool
) -> AsyncIterator[Catalog]:
    """A database holding `products` generated products, at the newest schema."""
    if backend == "sqlite":
        async with _sqlite(products, cache=cache) as built:
            yield built
    else:
        async with _postgres(products, pg_url=pg_url, cache=cache) as built:
            yield built


async def _build(url: str, products: int) -> float:
    log.info("building a catalogue of %s products at %s", products, _safe(url))
    started = time.monotonic()
    await upgrade_async(url)
    report = await seed_catalog_at(url, products=products, progress=True)
    if report.skipped:
        raise RuntimeError(f"{_safe(url)} already had a catalogue")
    return time.monotonic() - started


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@asynccontextmanager
async def _sqlite(products: int, *, cache: bool) -> AsyncIterator[Catalog]:
    VAR.mkdir(parents=True, exist_ok=True)
    final = VAR / f"catalog-{products}-{fingerprint()}.sqlite"
    if cache and final.exists():
        await upgrade_async(_sqlite_url(final))  # a no-op at the newest schema
        yield Catalog("sqlite", products, _sqlite_url(final), final.name, None)
        return
    with tempfile.TemporaryDirectory(dir=VAR, prefix="build-") as scratch:
        path = Path(scratch) / "shop.db"
        seconds = await _build(_sqlite_url(path), products)
        if not cache:
            yield Catalog("sqlite", products, _sqlite_url(path), "(temporary file)", seconds)
            return
        _keep_sqlite(path, final, products)
    yield Catalog("sqlite", products, _sqlite_url(final), final.name, seconds)


def _keep_sqlite(path: Path, final: Path, products: int) -> None:
    """Move a built file to its cached name, deleting older fingerprints of the same size."""
    for stale in VAR.glob(f"catalog-{products}-*.sqlite*"):
        stale.unlink()
    # The engine is disposed, so WAL is checkpointed; a leftover log moves with its database.
    for suffix in ("", "-wal"):
        if Path(f"{path}{suffix}").exists():
            os.replace(f"{path}{suffix}", f"{final}{suffix}")


async def _admin(url: URL, statement: str, params: dict[str, str] | None = None) -> list[str]:
    """Run one statement outside a transaction (CREATE/DROP/ALTER DATABASE, VACUUM)."""
    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            result = await conn.execute(text(statement), params or {})
            return [str(row[0]) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


@asynccontextmanager
async def _postgres(products: int, *, pg_url: str, cache: bool) -> AsyncIterator[Catalog]:
    base = make_url(normalize_database_url(pg_url))
    name = f"shopflow_bench_{products}_{fingerprint()}"
    existing = await _admin(
        base,
        "SELECT datname FROM pg_database WHERE datname LIKE :pattern",
        {"pattern": f"shopflow\\_bench\\_{products}\\_%"},
    )
    if cache and name in existing:
        url = base.set(database=name).render_as_string(hide_password=False)
        await upgrade_async(url)
        yield Catalog("postgres", products, url, name, None)
        return
    scratch = f"shopflow_bench_build_{uuid.uuid4().hex[:12]}"
    keep = False
    await _admin(base, f'CREATE DATABASE "{scratch}"')
    try:
        seconds = await _build(
            base.set(database=scratch).render_as_string(hide_password=False), products
        )
        # What autovacuum does within a minute of a bulk load; done here so that no measurement
        # races it (planner statistics, visibility map for index-only scans).
        await _admin(base.set(database=scratch), "VACUUM (ANALYZE)")
        if cache:
            for stale in existing:
                await _admin(base, f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
            await _admin(base, f'ALTER DATABASE "{scratch}" RENAME TO "{name}"')
            keep = True
        final = name if cache else scratch
        url = base.set(database=final).render_as_string(hide_password=False)
        yield Catalog("postgres", products, url, final, seconds)
    finally:
        if not keep:
            await _admin(base, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
