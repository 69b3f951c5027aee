"""The rows of `bench.checkout`, their ratios against the bare chain, the printout and the JSON."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.checkout_load import Latency, Loaded
from bench.temporal_stats import Shapes

# The goals, against the bare chain (row 1).
LATENCY_GOAL, LATENCY_STRETCH = 1.0, 0.6  # alone p50: at most
THROUGHPUT_GOAL, THROUGHPUT_STRETCH = 1.0, 1.5  # checkouts/s with N shoppers: at least
CPU_GROUPS = ("driver", "temporal", "bench-wkr", "api", "worker", "emulators", "postgres")


@dataclass(frozen=True)
class Row:
    key: str  # bare, noop, real-sqlite, split-sqlite, real-postgres, split-postgres
    label: str
    alone: Latency
    loaded: Loaded
    shapes: Shapes | None  # of the alone checkouts
    loaded_shapes: Shapes | None  # of the last sampled checkouts under load

    @property
    def cpu_ms_per_checkout(self) -> float | None:
        """Ours (every group but `other`), per checkout under load."""
        if not self.loaded.rps:
            return None
        ours = sum(v or 0.0 for k, v in self.loaded.cpu.items() if k != "other")
        return ours * 10 / self.loaded.rps


@dataclass(frozen=True)
class Ratio:
    row: str
    latency: float  # alone p50 / bare alone p50
    throughput: float  # chk/s / bare chk/s
    # bare's CPU ms per checkout / this row's (all our processes, under load): the throughput
    # ratio if CPU were the only limit and every row had the same cores. Not judged: it tells a
    # CPU-bound row from one disturbed by `other` (a shared machine) or limited elsewhere.
    cpu: float

    @property
    def latency_pass(self) -> bool:
        return self.latency <= LATENCY_GOAL

    @property
    def throughput_pass(self) -> bool:
        return self.throughput >= THROUGHPUT_GOAL


def _divide(numerator: float, denominator: float) -> float:
    # NaN (a row where every checkout failed) fails any goal instead of crashing the report.
    return numerator / denominator if denominator and not math.isnan(denominator) else math.nan


def ratios(rows: list[Row]) -> list[Ratio]:
    bare = rows[0]
    return [
        Ratio(
            row.key,
            _divide(row.alone.p50_ms, bare.alone.p50_ms),
            _divide(row.loaded.rps, bare.loaded.rps),
            _divide(bare.cpu_ms_per_checkout or math.nan, row.cpu_ms_per_checkout or math.nan),
        )
        for row in rows[1:]
    ]


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}".replace(",", " ")


def _verdict(value: float, passed: bool, stretch: bool) -> str:
    if math.isnan(value):
        return "   -  FAIL"
    return f"{value:5.2f}× {'PASS' if passed else 'FAIL'}{' (stretch met)' if stretch else ''}"


def render(rows: list[Row], header: str) -> str:
    width = max(len(row.label) for row in rows) + 2
    lines = [
        "",
        header,
        "",
        f"{'':{width}}{'alone ms':>15}  {'under load':>23}  {'per checkout (alone runs)':>31}",
        f"{'row':{width}}{'p50':>7}{'p95':>8}  {'chk/s':>7}{'p50 ms':>9}{'fails':>7}"
        f"  {'events':>7}{'wf tasks':>9}{'acts':>5}{'local':>6}{'child':>6}"
        f"  {'loaded: wf tasks':>16}",
    ]
    for row in rows:
        a, s, shape = row.alone, row.loaded, row.shapes
        med = shape.median if shape else {}
        under = row.loaded_shapes
        tasks = "-"
        if under is not None:
            low, high = under.workflow_tasks_range
            tasks = f"{_num(under.median['workflow_tasks'])} ({low}–{high})"
        lines.append(
            f"{row.label:{width}}{_num(a.p50_ms):>7}{_num(a.p95_ms):>8}  {s.rps:7.2f}"
            f"{_num(s.p50_ms):>9}{s.failures + a.failures:>7}"
            f"  {_num(med.get('events')):>7}{_num(med.get('workflow_tasks')):>9}"
            f"{_num(med.get('activities')):>5}{_num(med.get('local_activities')):>6}"
            f"{_num(med.get('children')):>6}  {tasks:>16}"
        )
        failure = a.first_failure or s.first_failure
        if failure:
            lines.append(f"{'':{width}}first failure: {failure}")
    lines += [
        "",
        f"{'CPU under load, % of one core':{width}}"
        + "".join(f"{group[:9]:>10}" for group in CPU_GROUPS)
        + f"{'other':>8}{'ours ms/chk':>13}",
    ]
    for row in rows:
        cpu = row.loaded.cpu
        lines.append(
            f"{row.label:{width}}"
            + "".join(f"{_num(cpu.get(group)):>10}" for group in CPU_GROUPS)
            + f"{_num(cpu.get('other')):>8}{_num(row.cpu_ms_per_checkout):>13}"
        )
    by_key = {row.key: row for row in rows}
    lines += [
        "",
        f"{'against ' + rows[0].label:{width}}"
        f"{'alone latency (goal ≤ 1.0×, stretch 0.6×)':44}"
        f"{'throughput (goal ≥ 1.0×, stretch 1.5×)':42}CPU per checkout, bare ÷ row",
    ]
    for ratio in ratios(rows):
        latency = _verdict(ratio.latency, ratio.latency_pass, ratio.latency <= LATENCY_STRETCH)
        throughput = _verdict(
            ratio.throughput, ratio.throughput_pass, ratio.throughput >= THROUGHPUT_STRETCH
        )
        lines.append(
            f"{by_key[ratio.row].label:{width}}{latency:44}{throughput:42}"
            f"{_num(ratio.cpu, 2)}× (not judged)"
        )
    return "\n".join(lines)


def write_json(rows: list[Row], options: dict[str, Any], started: datetime, folder: Path) -> Path:
    document = {
        "started": started.isoformat(),
        "options": options,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "sqlite": sqlite3.sqlite_version,
        },
        "rows": [asdict(row) | {"cpu_ms_per_checkout": row.cpu_ms_per_checkout} for row in rows],
        "ratios": [
            asdict(r) | {"latency_pass": r.latency_pass, "throughput_pass": r.throughput_pass}
            for r in ratios(rows)
        ],
    }
    path = folder / f"checkout-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    return path
