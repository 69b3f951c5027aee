"""The real API server (`python -m workers.cli api`) as a subprocess on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def api_server(
    database_url: str,
    *,
    log_path: Path,
    settings: dict[str, str] | None = None,
    ready_timeout: float = 180.0,
) -> AsyncIterator[Server]:
    """Start the API on a free local port, wait until /healthz says its search index is loaded,
    and stop it (SIGINT, then kill).
    `settings` are more SHOP_* variables for it, e.g. {"SHOP_SEARCH_CACHE_SECONDS": "0"}."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHOP_")}
    env |= {
        "SHOP_DATABASE_URL": database_url,
        "SHOP_API_PORT": str(port),
        "SHOP_HOST": "127.0.0.1",
        "SHOP_ENVIRONMENT": "dev",
        "SHOP_TEMPORAL_ADDRESS": "127.0.0.1:1",  # search needs no Temporal; nothing listens here
        # A log line per request would be measured as part of the server's work.
        "SHOP_ACCESS_LOG": "false",
    }
    env |= settings or {}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "workers.cli", "api", cwd=ROOT, env=env, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, process, ready_timeout, log_path)
        yield Server(url=url, pid=process.pid)
    finally:
        await _stop(process)


async def _wait_ready(
    url: str, process: asyncio.subprocess.Process, wait_seconds: float, log_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    async with httpx.AsyncClient(base_url=url, timeout=1.0, trust_env=False) as client:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise RuntimeError(
                    f"the API server exited with {process.returncode}; see {log_path}"
                )
            try:
                answer = await client.get("/healthz")
                # Measured once search reads its in-memory index (it loads after the start).
                if answer.status_code == 200 and answer.json().get("searchIndex") == "ready":
                    return
            except httpx.TransportError:
                pass  # not listening yet
            await asyncio.sleep(0.1)
    raise TimeoutError(
        f"the API server's search index was not ready in {wait_seconds} s; see {log_path}"
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()
