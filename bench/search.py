"""Catalogue search under load: HTTP against a trivial endpoint, HTTP with and without the API's
page cache against in-process search, and a larger catalogue against a smaller one, measured side
by side in one run, with a long tail of Zipf-distributed queries (bench/workload.py).

    .venv/bin/python -m bench.search [--products 100000] [--big 1000000] [--clients 50]
        [--seconds 15] [--databases sqlite,postgres] [--pg-url postgresql+asyncpg://...]
        [--queries 4000] [--zipf 1.0] [--seed 7]

Prints a table and the target ratios per database, and writes them to var/bench/search-*.json.
See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any, get_args

from bench import workload
from bench.catalog import VAR, Backend, Catalog, catalog
from bench.load import (
    HttpClient,
    Kind,
    Phase,
    Stats,
    catalogue_at,
    run_loop,
    run_phase,
    run_phase_in_subprocess,
)
from bench.search_report import (
    CACHE_ENTRIES,
    CACHE_SECONDS,
    PROBE_HEAD,
    PROBE_REPEATS,
    PROBE_TAIL,
    BackendResult,
    Measured,
    Options,
    QueryProbe,
    Ratio,
    TypoHits,
    divide,
    render,
    write_json,
)
from bench.server import api_server
from flows.catalogue import Catalogue

PAGE_SIZE = 20
log = logging.getLogger("bench.search")


# --- measuring ---------------------------------------------------------------------------------


def probe_sample(load: workload.Workload) -> list[int]:
    """Indexes of the probed queries: the PROBE_HEAD most popular and a fixed tail sample."""
    tail = range(PROBE_HEAD, len(load.queries))
    sample = random.Random(load.seed).sample(tail, min(PROBE_TAIL, len(tail)))
    return list(range(min(PROBE_HEAD, len(load.queries)))) + sorted(sample)


async def probe_queries(
    catalogue: Catalogue, load: workload.Workload, repeats: int = PROBE_REPEATS
) -> list[QueryProbe]:
    probes = []
    for index in probe_sample(load):
        query, timings, page = load.queries[index], [], None
        for _ in range(repeats):
            started = time.perf_counter()
            page = await catalogue.search(query, 1, PAGE_SIZE)
            timings.append((time.perf_counter() - started) * 1000)
        assert page is not None
        probes.append(
            QueryProbe(
                query,
                load.weights[index],
                len(page.items),
                page.has_more,
                statistics.median(timings),
            )
        )
    return probes


async def typo_hits(catalogue: Catalogue, load: workload.Workload) -> TypoHits:
    typos = [q for q, cls in zip(load.queries, load.classes, strict=True) if cls == "typo"]
    missed = [q for q in typos if not (await catalogue.search(q, 1, PAGE_SIZE)).items]
    return TypoHits(len(typos), len(typos) - len(missed), missed)


async def measure_catalog(
    built: Catalog, load: workload.Workload, opts: Options, *, full: bool
) -> Measured:
    """Against an API server with its page cache as shipped: the trivial endpoint and search;
    against one with the cache off: search; then search in-process with no server up.
    Not `full`: only the uncached HTTP and in-process rows (what the scale ratios need)."""
    runner: Callable[[Phase], Coroutine[Any, Any, Stats]] = (
        run_phase if opts.loadgen == "inline" else run_phase_in_subprocess
    )
    label = f"{built.backend} {built.products:,}"

    async def run(kind: Kind, target: str, server_pid: int | None) -> Stats:
        # The cached row warms up for at least one TTL: the measured window then sees the cache
        # in its steady state, not still filling.
        cached = kind == "search-http-cache"
        warmup = max(opts.warmup, CACHE_SECONDS) if cached else opts.warmup
        log.info("%s: %s (%s s warm-up + %s s)", label, kind, warmup, opts.seconds)
        phase = Phase(
            kind=kind,
            target=target,
            queries=load.queries,
            weights=load.weights,
            seed=load.seed,
            clients=opts.clients,
            seconds=opts.seconds,
            warmup=warmup,
            page_size=PAGE_SIZE,
            server_pid=server_pid,
            http_client=opts.http_client,
            cache_seconds=CACHE_SECONDS if cached else 0.0,
            cache_entries=CACHE_ENTRIES,
        )
        return await runner(phase)

    async with catalogue_at(built.url) as catalogue:  # one index load for both
        probes = await probe_queries(catalogue, load)
        typos = await typo_hits(catalogue, load)
    stats: dict[str, Stats] = {}
    server_log = VAR / f"api-{built.backend}-{built.products}.log"
    if full:
        cached = {"SHOP_SEARCH_CACHE_SECONDS": f"{CACHE_SECONDS:g}"}
        async with api_server(built.url, log_path=server_log, settings=cached) as server:
            for kind in ("trivial-http", "search-http-cache"):
                stats[kind] = await run(kind, server.url, server.pid)
    uncached = {"SHOP_SEARCH_CACHE_SECONDS": "0"}
    nocache_log = server_log.with_name(f"{server_log.stem}-nocache.log")
    async with api_server(built.url, log_path=nocache_log, settings=uncached) as server:
        stats["search-http-nocache"] = await run("search-http-nocache", server.url, server.pid)
    stats["search-inprocess"] = await run("search-inprocess", built.url, None)
    return Measured(built, probes, typos, stats)


async def bench_backend(backend: Backend, load: workload.Workload, opts: Options) -> BackendResult:
    async with AsyncExitStack() as stack:
        sizes = [opts.products] + ([opts.big] if opts.big else [])
        catalogs = [
            await stack.enter_async_context(
                catalog(backend, size, pg_url=opts.pg_url, cache=opts.cache)
            )
            for size in sizes
        ]
        measured = [await measure_catalog(catalogs[0], load, opts, full=True)]
        if len(catalogs) > 1:
            measured.append(await measure_catalog(catalogs[1], load, opts, full=False))
    return BackendResult(backend, measured, ratios(measured))


def ratios(measured: list[Measured]) -> list[Ratio]:
    small = measured[0].stats
    trivial = small["trivial-http"].rps
    found = [
        Ratio(
            "search rps / trivial rps, cache on",
            divide(small["search-http-cache"].rps, trivial),
            0.15,
            at_least=True,
        ),
        Ratio(
            "search rps / trivial rps, cache off",
            divide(small["search-http-nocache"].rps, trivial),
            0.10,
            at_least=True,
        ),
        Ratio(
            "search HTTP p99 (cache off) / in-process p99",
            divide(small["search-http-nocache"].p99_ms, small["search-inprocess"].p99_ms),
            10.0,
            at_least=False,
        ),
    ]
    if len(measured) > 1:
        big, n, big_n = (
            measured[1].stats,
            measured[0].catalog.products,
            measured[1].catalog.products,
        )
        for kind, name in (
            ("search-inprocess", "in-process search"),
            ("search-http-nocache", "HTTP search (cache off)"),
        ):
            found.append(
                Ratio(
                    f"{name} p95 at {big_n:,} / at {n:,}",
                    divide(big[kind].p95_ms, small[kind].p95_ms),
                    2.0,
                    at_least=False,
                )
            )
    return found


# --- entry point -------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--products", type=int, default=100_000, help="catalogue size N")
    parser.add_argument(
        "--big",
        type=int,
        default=1_000_000,
        help="the larger catalogue for the scale ratio; 0 skips",
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per row")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured time before each row")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated")
    parser.add_argument(
        "--pg-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL database; benchmark databases are created next to it",
    )
    parser.add_argument(
        "--loadgen",
        choices=("process", "inline"),
        default="process",
        help="run each load loop in its own process (default) or in the benchmark's own",
    )
    parser.add_argument(
        "--http-client",
        choices=get_args(HttpClient),
        default="raw",
        help="the load generator's HTTP client: a lean raw one (default) or httpx",
    )
    parser.add_argument(
        "--queries", type=int, default=4000, help="distinct queries in the workload"
    )
    parser.add_argument(
        "--zipf", type=float, default=1.0, help="the exponent s: rank r gets ∝ 1/r^s of requests"
    )
    parser.add_argument("--seed", type=int, default=7, help="decides the queries and the draws")
    parser.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="build every catalogue afresh and remove it at the end",
    )
    args = parser.parse_args(argv)
    databases = tuple(name.strip() for name in args.databases.split(",") if name.strip())
    for name in databases:
        if name not in get_args(Backend):
            parser.error(f"unknown database {name!r}; choose from sqlite, postgres")
    if args.products < 1 or args.big < 0 or args.clients < 1 or args.seconds <= 0:
        parser.error("--products, --clients and --seconds must be positive, --big at least 0")
    if args.queries < 1 or args.zipf < 0:
        parser.error("--queries must be positive, --zipf at least 0")
    return Options(
        products=args.products,
        big=args.big,
        clients=args.clients,
        seconds=args.seconds,
        warmup=args.warmup,
        databases=databases,  # each checked against Backend above
        pg_url=args.pg_url,
        loadgen=args.loadgen,
        http_client=args.http_client,
        cache=args.cache,
        queries=args.queries,
        zipf=args.zipf,
        seed=args.seed,
    )


async def bench(opts: Options) -> None:
    started = datetime.now(UTC)
    load = workload.build(opts.queries, zipf=opts.zipf, seed=opts.seed, page_size=PAGE_SIZE)
    log.info("workload: %s", load.summary())
    results = []
    for backend in opts.databases:
        result = await bench_backend(backend, load, opts)
        results.append(result)
        print(render(result, load, opts), flush=True)
    print(f"\nresults: {write_json(results, load, opts, started)}")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the readiness polls, one line each
    run_loop(bench(parse(argv)))


if __name__ == "__main__":
    main()
