"""How `bench.checkout` measures a row: one shopper alone, then many at once; CPU via psutil.

- `alone`: one loop, `count` checkouts one after another (after `warmup` unmeasured ones): the
  latency a single shopper sees, median and p95.
- `loaded`: `loops` closed loops (each starts its next checkout as soon as the last answered)
  run through a warm-up and the measured window without a pause; a checkout counts when it
  completes inside the window, so the window sees the steady state (no ramp-up, no drain).
  Loops start nothing new after the window and the ones in flight are awaited before the next
  row. A checkout that raises or takes over `TIMEOUT_SECONDS` counts in `failures`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

from bench.checkout_flows import Attempt

TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Latency:
    checkouts: int
    failures: int
    first_failure: str | None
    p50_ms: float
    p95_ms: float
    max_ms: float


@dataclass(frozen=True)
class Loaded:
    loops: int
    seconds: float
    checkouts: int  # completed (PAID) inside the window
    failures: int
    first_failure: str | None
    rps: float
    p50_ms: float
    p95_ms: float
    cpu: dict[str, float | None]  # % of one core over the window, by process group


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank, in ms: the smallest value that `share` of them do not exceed."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000


async def _one(attempt: Attempt, loop: int) -> tuple[str | None, str | None]:
    """(workflow id, None) or (None, what failed)."""
    try:
        return await asyncio.wait_for(attempt(loop), TIMEOUT_SECONDS), None
    except TimeoutError:
        return None, f"no answer in {TIMEOUT_SECONDS:.0f} s"
    except Exception as error:  # counted and reported like any failed checkout
        return None, f"{type(error).__name__}: {error}"


async def alone(attempt: Attempt, *, count: int, warmup: int) -> tuple[Latency, list[str]]:
    latencies: list[float] = []
    ids: list[str] = []
    failures: list[str] = []
    for n in range(warmup + count):
        began = time.perf_counter()
        run, failure = await _one(attempt, 0)
        took = time.perf_counter() - began
        if n < warmup:
            continue
        if run is None:
            failures.append(failure or "?")
        else:
            latencies.append(took)
            ids.append(run)
    latency = Latency(
        checkouts=len(latencies),
        failures=len(failures),
        first_failure=failures[0] if failures else None,
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        max_ms=percentile(latencies, 1.0),
    )
    return latency, ids


class CpuMeter:
    """CPU time from now on, in % of one core: each group of processes we started (by PID), this
    process (`driver`), the PostgreSQL backends serving `database` (only those, so another
    program's use of the same server is not ours), and `other`: the rest of the machine."""

    def __init__(self, groups: dict[str, Sequence[int]], database: str | None) -> None:
        self.groups = {name: [psutil.Process(pid) for pid in pids] for name, pids in groups.items()}
        self.groups["driver"] = [psutil.Process()]
        self.database = database
        self.wall = time.perf_counter()
        self.machine = self._machine()
        self.before = {name: self._seconds(procs) for name, procs in self.groups.items()}
        self.backends = self._backends()

    @staticmethod
    def _seconds(processes: Sequence[psutil.Process]) -> float | None:
        total = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:
                return None  # gone meanwhile
            total += times.user + times.system
        return total

    @staticmethod
    def _machine() -> float:
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        return sum(times) - idle

    def _backends(self) -> dict[int, float]:
        if self.database is None:
            return {}
        found = {}
        for process in psutil.process_iter(["cmdline", "cpu_times"]):
            command = " ".join(process.info["cmdline"] or [])
            times = process.info["cpu_times"]
            if command.startswith("postgres:") and f" {self.database} " in command and times:
                found[process.pid] = times.user + times.system
        return found

    def read(self) -> dict[str, float | None]:
        wall = time.perf_counter() - self.wall
        shares: dict[str, float | None] = {}
        for name, processes in self.groups.items():
            before, now = self.before[name], self._seconds(processes)
            shares[name] = None if before is None or now is None else (now - before) / wall * 100
        if self.database is not None:
            # Backends opened meanwhile count from zero; the pools keep theirs, so few exit.
            now_backends = self._backends()
            spent = sum(now_backends[pid] - self.backends.get(pid, 0.0) for pid in now_backends)
            shares["postgres"] = spent / wall * 100
        machine = (self._machine() - self.machine) / wall * 100
        shares["other"] = max(0.0, machine - sum(v or 0.0 for v in shares.values()))
        return shares


async def loaded(
    attempt: Attempt,
    *,
    loops: int,
    warmup: float,
    seconds: float,
    pids: dict[str, Sequence[int]],
    database: str | None,
) -> tuple[Loaded, list[str]]:
    clock = time.perf_counter
    window_start = clock() + warmup
    window_end = window_start + seconds
    latencies: list[float] = []
    ids: list[str] = []
    failures: list[str] = []

    async def loop(n: int) -> None:
        while (began := clock()) < window_end:
            run, failure = await _one(attempt, n)
            ended = clock()
            if not window_start <= ended < window_end:
                continue
            if run is None:
                failures.append(failure or "?")
            else:
                latencies.append(ended - began)
                ids.append(run)

    async def cpu() -> dict[str, float | None]:
        await asyncio.sleep(max(0.0, window_start - clock()))
        meter = CpuMeter(pids, database)
        await asyncio.sleep(max(0.0, window_end - clock()))
        return meter.read()

    meter = asyncio.create_task(cpu())
    await asyncio.gather(*(loop(n) for n in range(loops)))
    result = Loaded(
        loops=loops,
        seconds=seconds,
        checkouts=len(latencies),
        failures=len(failures),
        first_failure=failures[0] if failures else None,
        rps=len(latencies) / seconds,
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        cpu=await meter,
    )
    return result, ids
