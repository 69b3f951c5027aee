"""Checkout against a bare Temporal chain, side by side on one Temporal dev server.

    .venv/bin/python -m bench.checkout            # the full run: both databases, ~6 minutes
    .venv/bin/python -m bench.checkout --quick    # a smoke run: 5 shoppers, short windows

Rows, each measured alone (sequential checkouts: p50, p95) and with N concurrent shoppers
(checkouts/s), with the history events and workflow tasks per checkout (child runs included):

1. `bare chain`: `bench.bare_chain` — 9 ordinary no-op activities in sequence on one queue,
   what the old checkout asked of the engine. The reference of every ratio.
2. `checkout, no-op activities`: the real workflows (`workers.bootstrap.WORKFLOWS`) with stand-in
   activities under the real names (`bench.noop_worker`), driven by the web front's calls
   against Temporal (update-with-start `ready`, `choose_delivery`, `pay` WALLET): our engine
   cost without database work.
3. `checkout, real, <database>`: the real API, worker, database and mail over HTTP, default
   one-queue layout; on SQLite and on PostgreSQL.
4. `checkout, real, split queues, <database>`: the same with `Queues(split=True)`.

Prints the rows, the ratios against row 1 with PASS/FAIL against the goals (alone latency
≤ 1.0×, throughput ≥ 1.0×; stretch 0.6× and 1.5×), and writes var/bench/checkout-<time>.json.
Every server it starts listens on 127.0.0.1 and is stopped by its PID. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast, get_args

from sqlalchemy import make_url

from bench import checkout_flows as flows
from bench.catalog import VAR
from bench.checkout_load import alone, loaded
from bench.checkout_rows import Row, render, write_json
from bench.checkout_store import Database, Engine, database, prepare, shop, start_engine
from bench.load import run_loop
from bench.temporal_stats import read_shapes
from models.payloads import Queues

BARE_QUEUE = "bench-bare-chain"
NOOP_PREFIX = "bench-noop"
SETTLE_SECONDS = 2.0  # between rows: the last one's mails and history writes finish
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
log = logging.getLogger("bench.checkout")


@dataclass(frozen=True)
class Options:
    shoppers: int
    seconds: float
    warmup: float
    alone: int
    alone_warmup: int
    sample: int
    databases: tuple[Database, ...]
    pg_url: str
    quick: bool


async def measure_row(
    key: str,
    label: str,
    attempt: flows.Attempt,
    opts: Options,
    engine: Engine,
    pids: dict[str, list[int]],
    postgres: str | None = None,
) -> Row:
    log.info(
        "%s: %s alone (+%s), then %s shoppers", label, opts.alone, opts.alone_warmup, opts.shoppers
    )
    latency, alone_ids = await alone(attempt, count=opts.alone, warmup=opts.alone_warmup)
    await asyncio.sleep(SETTLE_SECONDS)
    load, loaded_ids = await loaded(
        attempt,
        loops=opts.shoppers,
        warmup=opts.warmup,
        seconds=opts.seconds,
        pids={group: list(found) for group, found in pids.items()},
        database=postgres,
    )
    log.info("%s: reading histories", label)
    shapes = await read_shapes(engine.client, alone_ids)
    loaded_shapes = await read_shapes(engine.client, loaded_ids[-opts.sample :])
    log.info("%s: done", label)
    await asyncio.sleep(SETTLE_SECONDS)
    return Row(key, label, latency, load, shapes, loaded_shapes)


async def bench(opts: Options) -> list[Row]:
    VAR.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    async with AsyncExitStack() as stack:
        scratch = Path(
            stack.enter_context(tempfile.TemporaryDirectory(dir=VAR, prefix="checkout-"))
        )
        logs = VAR / "checkout-logs"
        logs.mkdir(exist_ok=True)
        engine = await start_engine(stack, scratch, logs, BARE_QUEUE, NOOP_PREFIX)
        client = engine.client
        rows.append(
            await measure_row(
                "bare", "bare chain", flows.bare(client, BARE_QUEUE), opts, engine, engine.pids
            )
        )
        rows.append(
            await measure_row(
                "noop",
                "checkout, no-op activities",
                flows.noop(client, NOOP_PREFIX),
                opts,
                engine,
                engine.pids,
            )
        )
        for kind in opts.databases:
            async with database(kind, opts.pg_url, scratch) as url:
                log.info("store database %s", make_url(url).render_as_string(hide_password=True))
                shoppers, point_id = await prepare(url, opts.shoppers)
                postgres = make_url(url).database if kind == "postgres" else None
                for split in (False, True):
                    layout = "split" if split else "real"
                    tag = f"{kind}-{layout}"
                    queues = Queues(f"bench-{tag}", split)
                    label = f"checkout, real, {'split queues, ' if split else ''}{NAMES[kind]}"
                    async with shop(engine, url, queues, logs, tag) as (api_url, pids):
                        attempt, close = flows.real(api_url, shoppers, point_id)
                        try:
                            row = await measure_row(
                                f"{layout}-{kind}", label, attempt, opts, engine, pids, postgres
                            )
                        finally:
                            await close()
                    rows.append(row)
        log.info("stopping")
    return rows


def header(opts: Options) -> str:
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    quick = " | QUICK (smoke run, not for comparison)" if opts.quick else ""
    return (
        f"== bench.checkout | {opts.shoppers} shoppers × {opts.seconds:g} s (+{opts.warmup:g} s"
        f" warm-up) | alone: {opts.alone} in a row (+{opts.alone_warmup}) | {os.cpu_count()} CPUs,"
        f" load average at the end {load}{quick} =="
    )


QUICK = {"shoppers": 5, "seconds": 4.0, "warmup": 1.0, "alone": 5, "alone_warmup": 1, "sample": 5}
FULL = {
    "shoppers": 50,
    "seconds": 20.0,
    "warmup": 5.0,
    "alone": 30,
    "alone_warmup": 3,
    "sample": 20,
}


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.checkout", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: " + str(QUICK))
    parser.add_argument("--shoppers", type=int, help="concurrent shoppers (loops); 50")
    parser.add_argument("--seconds", type=float, help="measured window under load; 20")
    parser.add_argument("--warmup", type=float, help="unmeasured load before the window; 5")
    parser.add_argument("--alone", type=int, help="sequential checkouts of one shopper; 30")
    parser.add_argument("--alone-warmup", type=int, help="unmeasured ones before those; 3")
    parser.add_argument("--sample", type=int, help="histories read of the loaded window; 20")
    parser.add_argument(
        "--databases",
        default="sqlite,postgres",
        help="which databases the real rows use, in this order (sqlite,postgres)",
    )
    parser.add_argument(
        "--pg-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help="the benchmark's PostgreSQL database is created next to this one, then dropped",
    )
    args = parser.parse_args(argv)
    values = {
        key: value if (value := getattr(args, key)) is not None else default
        for key, default in (QUICK if args.quick else FULL).items()
    }
    names = [name.strip() for name in args.databases.split(",") if name.strip()]
    if not names or any(name not in get_args(Database) for name in names):
        parser.error(f"--databases: a list of {', '.join(get_args(Database))}")
    databases = tuple(cast(Database, name) for name in names)
    if values["shoppers"] < 1 or values["seconds"] <= 0 or values["alone"] < 1:
        parser.error("--shoppers, --seconds and --alone must be positive")
    return Options(
        shoppers=int(values["shoppers"]),
        seconds=float(values["seconds"]),
        warmup=max(0.0, float(values["warmup"])),
        alone=int(values["alone"]),
        alone_warmup=max(0, int(values["alone_warmup"])),
        sample=max(0, int(values["sample"])),
        databases=databases,
        pg_url=args.pg_url,
        quick=bool(args.quick),
    )


async def run(opts: Options) -> None:
    started = datetime.now(UTC)
    rows = await bench(opts)
    print(render(rows, header(opts)), flush=True)
    options = asdict(opts) | {"pg_url": make_url(opts.pg_url).render_as_string()}
    print(f"\nresults: {write_json(rows, options, started, VAR)}")


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the readiness polls, one line each
    run_loop(run(parse(argv)))


if __name__ == "__main__":
    main()
