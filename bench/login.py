"""/healthz latency while wrong logins flood the API: is argon2 off the event loop?

```
git archive HEAD | tar -x -C /tmp/before      # the code to compare with (optional)
.venv/bin/python -m bench.login --before /tmp/before
.venv/bin/python -m bench.login --rate 7 --seconds 10
```

Per tree (this one, and `--before`'s if given): a fresh SQLite database migrated by that tree, one
shopper inserted, the real API server (`workers.cli api`) started from that tree, /healthz probed
every 50 ms for `--seconds` alone and then with `--rate` wrong-password logins per second (the
login limits raised so that none is refused). Prints the medians and the ratio flooded / idle.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.server import _stop, _wait_ready, free_port
from services.auth import hash_password

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "bench_login"


def prepare(tree: Path, folder: Path) -> str:
    path = folder / "shop.db"
    url = f"sqlite+aiosqlite:///{path}"
    subprocess.run(
        [sys.executable, "-c", f"from workers.migrate import upgrade; upgrade({url!r})"],
        cwd=tree,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("SHOP_")},
    )
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(auth_user)")}
        row = {
            "username": USERNAME,
            "first_name": "Бенч",
            "last_name": "",
            "email": "bench@example.ru",
            "phone": "+79123456789",
            "password_hash": hash_password("correct horse"),
            "registration_ref": "bench",
            "created_at": "2026-01-01 00:00:00.000000",
            "role": "SHOPPER",
            "username_key": USERNAME,
        }
        row = {key: value for key, value in row.items() if key in columns}
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        # The names are this function's own keys, not input.
        insert = f"INSERT INTO auth_user ({names}) VALUES ({marks})"  # noqa: S608
        db.execute(insert, list(row.values()))
    return url


async def probe(url: str, seconds: float) -> list[float]:
    times: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=10.0, trust_env=False) as client:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            (await client.get("/healthz")).raise_for_status()
            times.append(time.perf_counter() - start)
            await asyncio.sleep(0.05)
    return times


async def flood(url: str, rate: float, stop: asyncio.Event) -> list[int]:
    statuses: list[int] = []
    wrong = {"username": USERNAME, "password": "wrong password"}
    async with httpx.AsyncClient(base_url=url, timeout=30.0, trust_env=False) as client:

        async def one() -> None:
            statuses.append((await client.post("/auth/login", json=wrong)).status_code)

        tasks: list[asyncio.Task[None]] = []
        while not stop.is_set():
            tasks.append(asyncio.create_task(one()))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)
    return statuses


async def measure(tree: Path, rate: float, seconds: float) -> tuple[float, float, list[int]]:
    with tempfile.TemporaryDirectory() as folder:
        url_db = prepare(tree, Path(folder))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOP_")}
        env |= {
            "SHOP_DATABASE_URL": url_db,
            "SHOP_API_PORT": str(port),
            "SHOP_HOST": "127.0.0.1",
            "SHOP_ENVIRONMENT": "dev",
            "SHOP_TEMPORAL_ADDRESS": "127.0.0.1:1",
            "SHOP_ACCESS_LOG": "false",
            "SHOP_LOGIN_WRONG_PASSWORDS_PER_ACCOUNT": "1000",
            "SHOP_LOGIN_WRONG_PASSWORDS_PER_ADDRESS": "10000",
        }
        log_path = Path(folder) / "api.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "workers.cli",
                "api",
                cwd=tree,
                env=env,
                stdout=log,
                stderr=log,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            await _wait_ready(url, process, 60.0, log_path)
            idle = await probe(url, seconds)
            stop = asyncio.Event()
            flooding = asyncio.create_task(flood(url, rate, stop))
            await asyncio.sleep(0.5)
            loaded = await probe(url, seconds)
            stop.set()
            statuses = await flooding
        finally:
            await _stop(process)
    return statistics.median(idle), statistics.median(loaded), statuses


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=7.0, help="wrong logins per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time of each row")
    parser.add_argument("--before", type=Path, help="another tree to measure the same way")
    args = parser.parse_args()
    trees = [("before", args.before)] if args.before else []
    trees.append(("this tree", ROOT))
    print(f"{'tree':<10} {'idle ms':>8} {'flooded ms':>11} {'ratio':>6}  logins answered")
    for name, tree in trees:
        idle, loaded, statuses = await measure(tree, args.rate, args.seconds)
        counts = {code: statuses.count(code) for code in sorted(set(statuses))}
        print(f"{name:<10} {idle * 1000:8.2f} {loaded * 1000:11.2f} {loaded / idle:6.1f}  {counts}")


if __name__ == "__main__":
    asyncio.run(main())
