"""Catalogue search under load: HTTP against a trivial endpoint, HTTP against in-process search,
and a larger catalogue against a smaller one, measured side by side in one run.

    .venv/bin/python -m bench.search [--products 100000] [--big 1000000] [--clients 50]
        [--seconds 15] [--databases sqlite,postgres] [--pg-url postgresql+asyncpg://...]

Prints a table and the target ratios per database, and writes them to var/bench/search-*.json.
See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sqlite3
import statistics
import time
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, get_args

from sqlalchemy import make_url

from bench.catalog import VAR, Backend, Catalog, catalog
from bench.load import HttpClient, Kind, Phase, Stats, run_loop, run_phase, run_phase_in_subprocess
from bench.server import api_server
from core.db import create_engine
from services import store

# What shoppers type in the header search line: word forms, brands, half-typed words, numbers.
QUERIES = (
    "чайники",
    "чайник bosch",
    "электрический чайник",
    "чайн",
    "кастрюля",
    "кастрюли kukmara",
    "сковорода tefal",
    "сковородки",
    "наушники sony",
    "наушн",
    "беспроводные наушники",
    "пылесос",
    "пылесос dyson",
    "утюг",
    "чай",
    "кофе в зернах",
    "кофе lavazza",
    "мёд",
    "велосипед горный",
    "рюкзак",
    "рюкзак школьный",
    "палатка",
    "ножи",
    "лейка",
    "секатор fiskars",
    "фен philips",
    "смартфон samsung 128",
    "планшет xiaomi",
    "умные часы",
    "конструктор lego",
    "тетрадь",
    "мультиварка redmond",
)
PAGE_SIZE = 20
HTTP_KINDS: tuple[Kind, ...] = ("trivial-http", "search-http")
LABELS: dict[str, str] = {
    "trivial-http": "trivial HTTP  GET /healthz",
    "search-http": "search HTTP   GET /store/search",
    "search-inprocess": "search in-process (no HTTP)",
}
log = logging.getLogger("bench.search")


@dataclass(frozen=True)
class Options:
    products: int
    big: int
    clients: int
    seconds: float
    warmup: float
    databases: tuple[Backend, ...]
    pg_url: str
    loadgen: str
    http_client: HttpClient
    cache: bool


@dataclass(frozen=True)
class QueryProbe:
    """One query run alone (one client), before the load: does it find anything, how fast."""

    query: str
    items: int
    has_more: bool
    median_ms: float


@dataclass(frozen=True)
class Measured:
    catalog: Catalog
    probes: list[QueryProbe]
    stats: dict[str, Stats]


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    target: float
    at_least: bool  # the target is a floor (≥), else a ceiling (≤)

    @property
    def passed(self) -> bool:
        return self.value >= self.target if self.at_least else self.value <= self.target


@dataclass(frozen=True)
class BackendResult:
    backend: Backend
    measured: list[Measured]
    ratios: list[Ratio]


# --- measuring ---------------------------------------------------------------------------------


async def probe_queries(url: str, repeats: int = 3) -> list[QueryProbe]:
    engine = create_engine(url)
    probes = []
    try:
        for query in QUERIES:
            timings, page = [], None
            for _ in range(repeats):
                started = time.perf_counter()
                async with engine.connect() as conn:
                    page = await store.search(conn=conn, query=query, page_size=PAGE_SIZE)
                timings.append((time.perf_counter() - started) * 1000)
            assert page is not None
            probes.append(
                QueryProbe(query, len(page.items), page.has_more, statistics.median(timings))
            )
    finally:
        await engine.dispose()
    return probes


async def measure_catalog(built: Catalog, http_kinds: tuple[Kind, ...], opts: Options) -> Measured:
    """Each HTTP kind against one running API server, then search in-process with no server up."""
    runner: Callable[[Phase], Coroutine[Any, Any, Stats]] = (
        run_phase if opts.loadgen == "inline" else run_phase_in_subprocess
    )
    label = f"{built.backend} {built.products:,}"

    async def run(kind: Kind, target: str, server_pid: int | None) -> Stats:
        log.info("%s: %s (%s s warm-up + %s s)", label, kind, opts.warmup, opts.seconds)
        phase = Phase(
            kind=kind,
            target=target,
            queries=QUERIES,
            clients=opts.clients,
            seconds=opts.seconds,
            warmup=opts.warmup,
            page_size=PAGE_SIZE,
            server_pid=server_pid,
            http_client=opts.http_client,
        )
        return await runner(phase)

    probes = await probe_queries(built.url)
    stats: dict[str, Stats] = {}
    server_log = VAR / f"api-{built.backend}-{built.products}.log"
    async with api_server(built.url, log_path=server_log) as server:
        for kind in http_kinds:
            stats[kind] = await run(kind, server.url, server.pid)
    stats["search-inprocess"] = await run("search-inprocess", built.url, None)
    return Measured(built, probes, stats)


async def bench_backend(backend: Backend, opts: Options) -> BackendResult:
    async with AsyncExitStack() as stack:
        sizes = [opts.products] + ([opts.big] if opts.big else [])
        catalogs = [
            await stack.enter_async_context(
                catalog(backend, size, pg_url=opts.pg_url, cache=opts.cache)
            )
            for size in sizes
        ]
        measured = [await measure_catalog(catalogs[0], HTTP_KINDS, opts)]
        if len(catalogs) > 1:
            measured.append(await measure_catalog(catalogs[1], ("search-http",), opts))
    return BackendResult(backend, measured, ratios(measured))


def _divide(numerator: float, denominator: float) -> float:
    # NaN (a row where every request failed) fails any target instead of crashing the report.
    return numerator / denominator if denominator else math.nan


def ratios(measured: list[Measured]) -> list[Ratio]:
    small = measured[0].stats
    found = [
        Ratio(
            "search rps / trivial rps",
            _divide(small["search-http"].rps, small["trivial-http"].rps),
            0.15,
            at_least=True,
        ),
        Ratio(
            "search HTTP p99 / in-process p99",
            _divide(small["search-http"].p99_ms, small["search-inprocess"].p99_ms),
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
        for kind, name in (("search-inprocess", "in-process"), ("search-http", "HTTP")):
            found.append(
                Ratio(
                    f"{name} search p95 at {big_n:,} / at {n:,}",
                    _divide(big[kind].p95_ms, small[kind].p95_ms),
                    3.0,
                    at_least=False,
                )
            )
    return found


# --- reporting ---------------------------------------------------------------------------------

NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def app_ms_per_request(stats: Stats) -> float | None:
    """CPU milliseconds our Python code spent per request: the API server's, or for in-process
    search the searching process's own (PostgreSQL's work is in pg%, not here)."""
    busy = stats.client_cpu if stats.server_cpu is None else stats.server_cpu
    return busy * 10 / stats.rps if stats.rps else None


def render(result: BackendResult, opts: Options) -> str:
    where = "its own process" if opts.loadgen == "process" else "the benchmark's process"
    lines = [
        "",
        f"== {NAMES[result.backend]} | {opts.clients} clients, {opts.seconds:g} s per row "
        f"(+{opts.warmup:g} s warm-up), {opts.http_client} HTTP client in {where} ==",
    ]
    header = (
        f"{'':34}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'fails':>6}"
        f"{'app ms/req':>11}{'client%':>8}{'server%':>8}{'pg%':>6}{'other%':>7}"
    )
    for measured in result.measured:
        built = measured.catalog
        origin = (
            "reused" if built.build_seconds is None else f"built in {built.build_seconds:.0f} s"
        )
        lines += ["", f"{built.products:,} products ({built.name}, {origin})", header]
        for kind, stats in measured.stats.items():
            lines.append(
                f"{LABELS[kind]:34}{stats.rps:8,.0f}{stats.p50_ms:9.1f}{stats.p95_ms:9.1f}"
                f"{stats.p99_ms:9.1f}{stats.max_ms:9.1f}{stats.failures:6}"
                f"{_num(app_ms_per_request(stats), 2):>11}{_num(stats.client_cpu, 0):>8}"
                f"{_num(stats.server_cpu, 0):>8}{_num(stats.postgres_cpu, 0):>6}"
                f"{_num(stats.other_cpu, 0):>7}"
            )
            if stats.first_failure:
                lines.append(f"{'':34}first failure: {stats.first_failure}")
        empty = [p.query for p in measured.probes if not p.items]
        slowest = sorted(measured.probes, key=lambda p: p.median_ms, reverse=True)[:4]
        lines.append(
            "one client, each query alone (median of 3): "
            + ", ".join(f"«{p.query}» {p.median_ms:.1f} ms" for p in slowest)
            + f" (slowest of {len(measured.probes)}); no results: "
            + (", ".join(f"«{q}»" for q in empty) or "none")
        )
    lines += ["", f"{'ratio':48}{'value':>8}   target"]
    for ratio in result.ratios:
        target = f"{'≥' if ratio.at_least else '≤'} {ratio.target:g}"
        verdict = "PASS" if ratio.passed else "FAIL"
        lines.append(f"{ratio.name:48}{ratio.value:8.2f}   {target:8} {verdict}")
    return "\n".join(lines)


def write_json(results: list[BackendResult], opts: Options, started: datetime) -> str:
    def catalog_json(built: Catalog) -> dict[str, Any]:
        url = make_url(built.url).render_as_string(hide_password=True)
        return asdict(built) | {"url": url}

    document = {
        "started": started.isoformat(),
        "options": asdict(opts) | {"pg_url": make_url(opts.pg_url).render_as_string()},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "sqlite": sqlite3.sqlite_version,
        },
        "queries": list(QUERIES),
        "databases": {
            r.backend: {
                "catalogs": [
                    {
                        "catalog": catalog_json(m.catalog),
                        "probes": [asdict(p) for p in m.probes],
                        "stats": {
                            kind: asdict(s) | {"app_ms_per_request": app_ms_per_request(s)}
                            for kind, s in m.stats.items()
                        },
                    }
                    for m in r.measured
                ],
                "ratios": [asdict(ratio) | {"passed": ratio.passed} for ratio in r.ratios],
            }
            for r in results
        },
    }
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / f"search-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2))
    return str(path)


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
    )


async def bench(opts: Options) -> None:
    started = datetime.now(UTC)
    results = []
    for backend in opts.databases:
        result = await bench_backend(backend, opts)
        results.append(result)
        print(render(result, opts), flush=True)
    print(f"\nresults: {write_json(results, opts, started)}")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the readiness polls, one line each
    run_loop(bench(parse(argv)))


if __name__ == "__main__":
    main()
