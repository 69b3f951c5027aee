"""bench.search's results and their report: the options, what one catalogue measured, the ratios
against their targets, the printed table and the JSON file (bench/README.md, "The columns")."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import make_url

from bench import workload
from bench.catalog import VAR, Backend, Catalog
from bench.load import HttpClient, Stats
from core.settings import Settings

# The API's page cache as shipped: its TTL is the settings default; its size is fixed in
# api/app.py `create_app` (TTLCache(max_entries=2048)). Both matter to the client-side replay.
CACHE_SECONDS: float = Settings.model_fields["search_cache_seconds"].default
CACHE_ENTRIES = 2048
# The probe: the most popular queries and a fixed sample of the tail, each alone.
PROBE_HEAD, PROBE_TAIL, PROBE_REPEATS = 100, 50, 3
LABELS: dict[str, str] = {
    "trivial-http": "trivial HTTP  GET /healthz",
    "search-http-cache": f"search HTTP, page cache {CACHE_SECONDS:g} s",
    "search-http-nocache": "search HTTP, page cache off",
    "search-inprocess": "search in-process (no cache)",
}


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
    queries: int
    zipf: float
    seed: int


@dataclass(frozen=True)
class QueryProbe:
    """One query run alone (one client), before the load: does it find anything, how fast."""

    query: str
    weight: float  # its share of the requests under load
    items: int
    has_more: bool
    median_ms: float


@dataclass(frozen=True)
class TypoHits:
    """The workload's `typo` queries, each asked alone: how many find something (corrected)."""

    asked: int
    found: int
    missed: list[str]


@dataclass(frozen=True)
class Measured:
    catalog: Catalog
    probes: list[QueryProbe]
    typos: TypoHits
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


def divide(numerator: float, denominator: float) -> float:
    # NaN (a row where every request failed) fails any target instead of crashing the report.
    return numerator / denominator if denominator else math.nan


# --- reporting ---------------------------------------------------------------------------------

NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def app_ms_per_request(stats: Stats) -> float | None:
    """CPU milliseconds our Python code spent per request: the API server's, or for in-process
    search the searching process's own (PostgreSQL's work is in pg%, not here)."""
    busy = stats.client_cpu if stats.server_cpu is None else stats.server_cpu
    return busy * 10 / stats.rps if stats.rps else None


def cache_line(stats: Stats) -> str | None:
    estimate = stats.cache
    if estimate is None:
        return None
    return (
        f"{'':4}page cache ≈ {estimate.hit_rate:.0%} hits (client-side replay, not counted by "
        f"the server): {estimate.distinct:,} distinct queries in {estimate.requests:,} requests;"
        f" hits p50 {_num(estimate.hit_p50_ms)} ms, misses p50 {_num(estimate.miss_p50_ms)}"
        f" / p99 {_num(estimate.miss_p99_ms)} ms; {estimate.duplicate_misses:,} misses while the"
        f" same query was in flight; at most {estimate.peak_entries:,} pages held (stale ones"
        f" included; LRU evicts beyond {estimate.max_entries:,})"
    )


def probe_line(probes: list[QueryProbe]) -> str:
    empty = [p for p in probes if not p.items]
    slowest = sorted(probes, key=lambda p: p.median_ms, reverse=True)[:4]
    examples = ", ".join(f"«{p.query}»" for p in empty[:3])
    return (
        f"{'':4}probe, each query alone (median of {PROBE_REPEATS}; the {PROBE_HEAD} most popular"
        f" + {PROBE_TAIL} from the tail): slowest "
        + ", ".join(f"«{p.query}» {p.median_ms:.1f} ms" for p in slowest)
        + f"; no results: {len(empty)} of {len(probes)}"
        + (f" ({examples}, …)" if empty else "")
    )


def typo_line(typos: TypoHits) -> str:
    examples = ", ".join(f"«{q}»" for q in typos.missed[:3])
    return (
        f"{'':4}typo queries of the workload, each alone: {typos.found} of {typos.asked} find"
        f" something ({divide(typos.found, typos.asked):.0%})"
        + (f"; not found: {examples}{', …' if len(typos.missed) > 3 else ''}" if examples else "")
    )


def render(result: BackendResult, load: workload.Workload, opts: Options) -> str:
    where = "its own process" if opts.loadgen == "process" else "the benchmark's process"
    lines = [
        "",
        f"== {NAMES[result.backend]} | {opts.clients} clients, {opts.seconds:g} s per row "
        f"(+{opts.warmup:g} s warm-up, the cached row +{max(opts.warmup, CACHE_SECONDS):g} s),"
        f" {opts.http_client} HTTP client in {where} ==",
        f"workload: {load.summary()}",
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
                lines.append(f"{'':4}first failure: {stats.first_failure}")
            if (line := cache_line(stats)) is not None:
                lines.append(line)
        lines.append(probe_line(measured.probes))
        lines.append(typo_line(measured.typos))
    width = max(len(ratio.name) for ratio in result.ratios) + 2
    lines += ["", f"{'ratio':{width}}{'value':>8}   target"]
    for ratio in result.ratios:
        target = f"{'≥' if ratio.at_least else '≤'} {ratio.target:g}"
        verdict = "PASS" if ratio.passed else "FAIL"
        lines.append(f"{ratio.name:{width}}{ratio.value:8.2f}   {target:8} {verdict}")
    return "\n".join(lines)


def write_json(
    results: list[BackendResult], load: workload.Workload, opts: Options, started: datetime
) -> str:
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
        "workload": {
            "seed": load.seed,
            "zipf": load.zipf,
            "cache_seconds": CACHE_SECONDS,
            "cache_entries": CACHE_ENTRIES,
            "class_shares": load.class_shares(),
            "queries": [
                {"query": q, "class": c, "weight": w}
                for q, c, w in zip(load.queries, load.classes, load.weights, strict=True)
            ],
        },
        "databases": {
            r.backend: {
                "catalogs": [
                    {
                        "catalog": catalog_json(m.catalog),
                        "probes": [asdict(p) for p in m.probes],
                        "typos": asdict(m.typos),
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
