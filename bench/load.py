"""The one load loop behind every number of the search benchmark.

`measure` runs `clients` concurrent loops for a fixed time; each draws its next query from the
workload (its own seeded generator, Zipf-weighted: bench/workload.py), calls one request function
and times every call. `run_phase` wraps it with a warm-up, CPU accounting and the request function
of one kind: the trivial HTTP endpoint, search over HTTP (an API server with or without its page
cache), or search straight against the database. For the cached kind it also replays the
requests through the cache to estimate its hit rate (client-side: the server does not count).
`python -m bench.load` runs one phase in a process of its own (a JSON `Phase` on stdin, JSON
`Stats` on stdout), so the load generator does not share an interpreter with the orchestrating
code.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import math
import os
import random
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

import httpx
import psutil

from bench.rawhttp import RawHTTPError, raw_client
from bench.workload import CacheEstimate, cache_key, estimate_cache
from core.db import create_engine
from core.errors import DomainError
from flows.catalogue import Catalogue

ROOT = Path(__file__).resolve().parent.parent
Kind = Literal["trivial-http", "search-http-cache", "search-http-nocache", "search-inprocess"]
HttpClient = Literal["raw", "httpx"]
# One request for the query of this index: None when it succeeded, else what went wrong.
Request = Callable[[int], Awaitable[str | None]]
# (sent, answered or None when it failed, query index) of every request, for the cache replay.
Event = tuple[float, float | None, int]
T = TypeVar("T")


@dataclass(frozen=True)
class Phase:
    kind: Kind
    target: str  # the API's base URL, or the database URL for search-inprocess
    queries: tuple[str, ...]
    weights: tuple[float, ...]  # each query's share of the requests
    seed: int  # client n draws from random.Random(f"{seed}:{n}"): the same sequence every run
    clients: int
    seconds: float
    warmup: float
    page_size: int = 20
    server_pid: int | None = None  # whose CPU time to account, when an API server takes the load
    http_client: HttpClient = "raw"
    # The server's page cache, to replay client-side (search-http-cache): TTL and size.
    cache_seconds: float = 0.0
    cache_entries: int = 0


@dataclass(frozen=True)
class Stats:
    kind: str
    requests: int  # successful requests in the measured window
    failures: int
    first_failure: str | None
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    # CPU used over the measured window, in % of one core (machine: % of all cores); None where
    # it could not be read. They tell which process is the bottleneck on a small machine.
    client_cpu: float
    server_cpu: float | None
    postgres_cpu: float | None
    machine_cpu: float | None
    other_cpu: float | None  # what the rest of the machine used meanwhile (not ours)
    cache: CacheEstimate | None = None  # the page cache replayed client-side, when it is on

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stats:
        cache = data.pop("cache", None)
        return cls(**data, cache=None if cache is None else CacheEstimate(**cache))


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    first_failure: str | None = None
    seconds: float = 0.0


class Draws:
    """Each client's own seeded generator of query indexes, Zipf-weighted by the workload."""

    def __init__(self, weights: tuple[float, ...], seed: int, clients: int) -> None:
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]
        self.last = len(self.cumulative) - 1
        self.generators = [random.Random(f"{seed}:{n}") for n in range(clients)]

    def next(self, client: int) -> int:
        point = self.generators[client].random() * self.total
        return min(bisect.bisect_right(self.cumulative, point), self.last)


async def measure(
    request: Request,
    draws: Draws,
    *,
    clients: int,
    seconds: float,
    events: list[Event] | None = None,
) -> Samples:
    """`clients` loops calling `request` with drawn queries until `seconds` pass; every call timed
    (and, with `events`, recorded for the cache replay)."""
    samples = Samples()
    clock = time.perf_counter
    deadline = clock() + seconds

    async def client(n: int) -> None:
        while (began := clock()) < deadline:
            index = draws.next(n)
            failure = await request(index)
            answered = clock()
            if failure is None:
                samples.latencies.append(answered - began)
            else:
                samples.failures += 1
                samples.first_failure = samples.first_failure or failure
            if events is not None:
                events.append((began, answered if failure is None else None, index))

    started = clock()
    await asyncio.gather(*(client(n) for n in range(clients)))
    samples.seconds = clock() - started
    return samples


@asynccontextmanager
async def requester(phase: Phase) -> AsyncIterator[Request]:
    """The request function of the phase's kind, with its HTTP client or database engine."""
    if phase.kind == "search-inprocess":
        factory = _in_process
    else:
        factory = _raw_http if phase.http_client == "raw" else _httpx
    async with factory(phase) as request:
        yield request


def _target(phase: Phase, query: str) -> tuple[str, dict[str, str | int] | None]:
    """Path and query parameters of the HTTP request for `query`."""
    if phase.kind == "trivial-http":
        return "/healthz", None
    return "/store/search", {"q": query, "pageSize": phase.page_size}


@asynccontextmanager
async def catalogue_at(url: str) -> AsyncIterator[Catalogue]:
    """What the API runs (typos corrected) without the page cache, its search index loaded."""
    engine = create_engine(url)
    catalogue = Catalogue(engine, cache_seconds=0)
    try:
        await catalogue.ready()
        yield catalogue
    finally:
        await catalogue.aclose()
        await engine.dispose()


@asynccontextmanager
async def _in_process(phase: Phase) -> AsyncIterator[Request]:
    async with catalogue_at(phase.target) as catalogue:

        async def search(index: int) -> str | None:
            # A search that needs no I/O (the index in memory, cards read on the loop's thread)
            # never suspends: without this the first client would run the whole window alone.
            # Here every request waits its turn behind the others in flight, as on a server.
            await asyncio.sleep(0)
            try:
                await catalogue.search(phase.queries[index], 1, phase.page_size)
            except DomainError as error:
                return f"{type(error).__name__}: {error}"
            return None

        yield search


@asynccontextmanager
async def _raw_http(phase: Phase) -> AsyncIterator[Request]:
    async with raw_client(phase.target, phase.clients) as client:
        requests = []
        for query in phase.queries:
            path, params = _target(phase, query)
            requests.append(client.request(path + (f"?{urlencode(params)}" if params else "")))

        async def get(index: int) -> str | None:
            try:
                status = await client.get(requests[index])
            except (OSError, RawHTTPError) as error:
                return f"{type(error).__name__}: {error}"
            return None if status == 200 else f"HTTP {status}"

        yield get


@asynccontextmanager
async def _httpx(phase: Phase) -> AsyncIterator[Request]:
    limits = httpx.Limits(max_connections=phase.clients, max_keepalive_connections=phase.clients)
    async with httpx.AsyncClient(
        base_url=phase.target, limits=limits, timeout=60.0, trust_env=False
    ) as client:

        async def get(index: int) -> str | None:
            path, params = _target(phase, phase.queries[index])
            try:
                response = await client.get(path, params=params)
            except httpx.TransportError as error:
                return f"{type(error).__name__}: {error}"
            return None if response.status_code == 200 else f"HTTP {response.status_code}"

        yield get


async def run_phase(phase: Phase) -> Stats:
    """Warm up, then measure one kind of request; CPU is accounted over the measured window."""
    replay = phase.kind == "search-http-cache" and phase.cache_seconds > 0
    events: list[Event] | None = [] if replay else None
    draws = Draws(phase.weights, phase.seed, phase.clients)
    async with requester(phase) as request:
        options: dict[str, Any] = {"clients": phase.clients, "events": events}
        # One generator per client across warm-up and measurement: the measured window goes on
        # with new draws instead of repeating what the warm-up just put in the cache.
        await measure(request, draws, seconds=phase.warmup, **options)
        meter = CpuMeter(phase.server_pid)
        measured_from = time.perf_counter()
        samples = await measure(request, draws, seconds=phase.seconds, **options)
        cpu = meter.read()
    cache = None
    if events is not None:
        keys = [cache_key(query, 1, phase.page_size) for query in phase.queries]
        cache = estimate_cache(
            events,
            keys,
            ttl=phase.cache_seconds,
            max_entries=phase.cache_entries,
            measured_from=measured_from,
        )
    return summarize(phase.kind, samples, cpu, cache)


def summarize(
    kind: str, samples: Samples, cpu: CpuShares, cache: CacheEstimate | None = None
) -> Stats:
    ordered = sorted(samples.latencies)

    def percentile(share: float) -> float:
        # Nearest rank: the smallest latency that `share` of the requests did not exceed.
        if not ordered:
            return math.nan
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000

    return Stats(
        kind=kind,
        requests=len(ordered),
        failures=samples.failures,
        first_failure=samples.first_failure,
        seconds=samples.seconds,
        rps=len(ordered) / samples.seconds if samples.seconds else 0.0,
        p50_ms=percentile(0.50),
        p95_ms=percentile(0.95),
        p99_ms=percentile(0.99),
        max_ms=percentile(1.0),
        client_cpu=cpu.client,
        server_cpu=cpu.server,
        postgres_cpu=cpu.postgres,
        machine_cpu=cpu.machine,
        other_cpu=cpu.other,
        cache=cache,
    )


# --- CPU accounting (psutil) ----------------------------------------------------------------


@dataclass(frozen=True)
class CpuShares:
    client: float
    server: float | None
    postgres: float | None
    machine: float | None
    other: float | None


def _process_seconds(pid: int, *, reaped_children: bool = False) -> float | None:
    """User + system CPU seconds of a process (and of its reaped children); None once gone."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    spent = times.user + times.system
    return spent + times.children_user + times.children_system if reaped_children else spent


def _postgres_seconds() -> float:
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "postgres":
            # A backend that exits hands its CPU time to the postmaster's reaped-children
            # counters, so the sum stays whole while connections come and go.
            total += _process_seconds(process.pid, reaped_children=True) or 0.0
    return total


def _machine_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot."""
    times = psutil.cpu_times()
    total = sum(times)
    return total - times.idle - getattr(times, "iowait", 0.0), total


class CpuMeter:
    """CPU time of this process, the API server, PostgreSQL and the machine from now on."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.wall = time.perf_counter()
        self.client = time.process_time()
        self.server = _process_seconds(server_pid) if server_pid else None
        self.postgres = _postgres_seconds()
        self.machine = _machine_seconds()

    def read(self) -> CpuShares:
        wall = time.perf_counter() - self.wall

        def share(before: float | None, after: float | None) -> float | None:
            if before is None or after is None:
                return None
            return (after - before) / wall * 100

        now = _machine_seconds()
        total = now[1] - self.machine[1]
        machine = (now[0] - self.machine[0]) / total * 100 if total else None
        client = (time.process_time() - self.client) / wall * 100
        server = share(self.server, _process_seconds(self.server_pid) if self.server_pid else None)
        postgres = share(self.postgres, _postgres_seconds())
        other = None
        if machine is not None:
            ours = client + (server or 0.0) + (postgres or 0.0)
            other = max(0.0, machine * (os.cpu_count() or 1) - ours)
        return CpuShares(client, server, postgres, machine, other)


# --- one phase in its own process -------------------------------------------------------------


def run_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed, as uvicorn's server does, so both sides match."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


async def run_phase_in_subprocess(phase: Phase) -> Stats:
    """`run_phase` in a fresh `python -m bench.load`: its own interpreter, GIL and event loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.load",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    spec = json.dumps(asdict(phase)).encode()
    try:
        # Bounded: the phase itself stops after warm-up + seconds; the rest is start-up slack.
        out, _ = await asyncio.wait_for(
            process.communicate(spec), timeout=phase.warmup + phase.seconds + 120
        )
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"load generator for {phase.kind} exited with {process.returncode}")
    return Stats.from_json(json.loads(out))


def main() -> None:
    spec = json.load(sys.stdin)
    phase = Phase(**(spec | {key: tuple(spec[key]) for key in ("queries", "weights")}))
    stats = run_loop(run_phase(phase))
    json.dump(asdict(stats), sys.stdout)


if __name__ == "__main__":
    main()
