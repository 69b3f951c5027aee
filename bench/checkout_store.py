"""The processes and data behind `bench.checkout`, all on free ports of 127.0.0.1.

Every child starts in a session of its own (a Ctrl-C reaches only the benchmark, which stops
them in order) and is stopped by its PID when its `AsyncExitStack` closes: SIGINT, then kill
after 15 s (`bench.server._stop`). Their output goes to log files.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import make_url
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from bench.catalog import _admin
from bench.checkout_flows import Shopper
from bench.server import _stop, api_server, free_port
from core.db import create_engine, create_session_factory, normalize_database_url, transaction
from core.settings import Settings
from models.payloads import Queues
from services import auth, delivery, store
from workers.dev import temporal_command
from workers.migrate import upgrade_async
from workers.seed import add_funded_shopper
from workflows.policies import DOMAINS

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
Database = Literal["sqlite", "postgres"]
WORKFLOW_TASKS = TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
ACTIVITY_TASKS = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
STOCK_PER_STORE = 10_000_000  # never runs out
FUNDS_KOPECKS = 10_000_000_00  # ten million roubles per shopper
PRICE_KOPECKS = 100_00
PASSWORD = "bench password"  # noqa: S105 (throwaway shoppers of a scratch database)
log = logging.getLogger("bench.checkout")


@dataclass(frozen=True)
class Child:
    name: str
    process: asyncio.subprocess.Process
    log: Path


async def spawn(
    stack: AsyncExitStack, name: str, argv: Sequence[str], env: dict[str, str], logs: Path
) -> Child:
    log_path = logs / f"{name}.log"
    with log_path.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    stack.push_async_callback(_stop, process)
    log.info("started %s (pid %s), log %s", name, process.pid, log_path)
    return Child(name, process, log_path)


async def wait_port(child: Child, port: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.process.returncode is not None:
            raise RuntimeError(f"{child.name} exited with {child.process.returncode}: {child.log}")
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise TimeoutError(f"{child.name} did not listen on {port} in {seconds:.0f} s: {child.log}")


def layout_queues(queues: Queues) -> list[tuple[str, TaskQueueType.ValueType]]:
    """The task queues a layout's workers poll: (name, workflow or activity tasks)."""
    found = [(queues.workflows, WORKFLOW_TASKS)]
    if queues.split:
        return found + [(queues.activities(domain), ACTIVITY_TASKS) for domain in DOMAINS]
    return [*found, (queues.workflows, ACTIVITY_TASKS)]


async def wait_pollers(
    client: Client, child: Child, queues: list[tuple[str, TaskQueueType.ValueType]]
) -> None:
    """Until a worker polls each of `queues`."""
    deadline = time.monotonic() + 60
    for queue, kind in queues:
        request = DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind
        )
        while not (await client.workflow_service.describe_task_queue(request)).pollers:
            if child.process.returncode is not None:
                raise RuntimeError(f"{child.name} exited with {child.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no worker polls {queue} after 60 s: {child.log}")
            await asyncio.sleep(0.2)


def shop_env(values: dict[str, str]) -> dict[str, str]:
    """Our environment without the caller's SHOP_* settings, plus `values`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHOP_")}
    return env | values


@dataclass(frozen=True)
class Engine:
    """The shared part of a run: Temporal, the emulators, the no-op worker."""

    client: Client
    values: dict[str, str]  # SHOP_* settings for the API and the worker
    pids: dict[str, list[int]]  # process group → PIDs whose CPU time is ours


async def start_engine(
    stack: AsyncExitStack, scratch: Path, logs: Path, bare_queue: str, noop_prefix: str
) -> Engine:
    """The Temporal dev server (`workers.dev.temporal_command`), the mail and courier emulators
    and the no-op worker (`bench.noop_worker`), each waited for."""
    python = sys.executable
    names = ("temporal", "ui", "metrics", "http", "smtp", "mailbox", "couriers")
    ports = {name: free_port() for name in names}
    address = f"{HOST}:{ports['temporal']}"
    settings = Settings(
        data_dir=scratch,
        host=HOST,
        temporal_address=address,
        temporal_ui_port=ports["ui"],
        temporal_binary=str(Path(python).parent / "temporal"),
    )
    # workers/dev.py's command; the two ports it leaves to chance are ours too, on 127.0.0.1.
    extra = ["--metrics-port", str(ports["metrics"]), "--http-port", str(ports["http"])]
    temporal = await spawn(
        stack, "temporal", [*temporal_command(settings), *extra], shop_env({}), logs
    )
    values = {
        "SHOP_ENVIRONMENT": "dev",
        "SHOP_DATA_DIR": str(scratch),
        "SHOP_HOST": HOST,
        "SHOP_TEMPORAL_ADDRESS": address,
        "SHOP_TEMPORAL_UI_PORT": str(ports["ui"]),
        "SHOP_SMTP_HOST": HOST,
        "SHOP_SMTP_PORT": str(ports["smtp"]),
        "SHOP_MAILBOX_PORT": str(ports["mailbox"]),
        "SHOP_COURIERS_PORT": str(ports["couriers"]),
        # A log line per request would be measured as part of the server's work.
        "SHOP_ACCESS_LOG": "false",
    }
    mail_ports = ["--smtp-port", str(ports["smtp"]), "--http-port", str(ports["mailbox"])]
    mail = await spawn(
        stack,
        "mail",
        [python, "-m", "emulators.mail", "--host", HOST, *mail_ports],
        shop_env(values),
        logs,
    )
    couriers = await spawn(
        stack,
        "couriers",
        [python, "-m", "emulators.couriers", "--host", HOST, "--port", str(ports["couriers"])],
        shop_env(values),
        logs,
    )
    await wait_port(temporal, ports["temporal"])
    await wait_port(mail, ports["smtp"])
    await wait_port(couriers, ports["couriers"])
    client = await Client.connect(address)
    noop = await spawn(
        stack,
        "noop-worker",
        [python, "-m", "bench.noop_worker", address, bare_queue, noop_prefix],
        shop_env({}),
        logs,
    )
    bare_queues = [(bare_queue, WORKFLOW_TASKS), (bare_queue, ACTIVITY_TASKS)]
    await wait_pollers(client, noop, bare_queues + layout_queues(Queues(noop_prefix)))
    pids = {
        "temporal": [temporal.process.pid],
        "emulators": [mail.process.pid, couriers.process.pid],
        "bench-wkr": [noop.process.pid],
    }
    return Engine(client, values, pids)


@asynccontextmanager
async def database(kind: Database, pg_url: str, scratch: Path) -> AsyncIterator[str]:
    """A fresh store database at the newest schema; a PostgreSQL one is dropped at the end."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{scratch / 'shop.db'}"
        await upgrade_async(url)
        yield url
        return
    base = make_url(normalize_database_url(pg_url))
    name = f"shopflow_bench_checkout_{uuid.uuid4().hex[:12]}"
    await _admin(base, f'CREATE DATABASE "{name}"')
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        await upgrade_async(url)
        yield url
    finally:
        await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def shop(
    engine: Engine, url: str, queues: Queues, logs: Path, tag: str
) -> AsyncIterator[tuple[str, dict[str, list[int]]]]:
    """The real API (`bench.server.api_server`) and the real worker (`python -m workers.cli
    worker`) on `url` with the layout `queues`, waited for; its URL and the PIDs, theirs and the
    engine's. Stopped when the block ends."""
    values = engine.values | {
        "SHOP_DATABASE_URL": url,
        "SHOP_TASK_QUEUE_PREFIX": queues.prefix,
        "SHOP_SPLIT_TASK_QUEUES": "true" if queues.split else "false",
    }
    async with AsyncExitStack() as stack:
        # The API reaches Temporal lazily, so it can start before the worker.
        api = await stack.enter_async_context(
            api_server(url, log_path=logs / f"api-{tag}.log", settings=values)
        )
        log.info("API for %s answers on %s (pid %s)", tag, api.url, api.pid)
        values["SHOP_PUBLIC_URL"] = api.url  # the links in the worker's mails
        worker = await spawn(
            stack,
            f"worker-{tag}",
            [sys.executable, "-m", "workers.cli", "worker"],
            shop_env(values),
            logs,
        )
        await wait_pollers(engine.client, worker, layout_queues(queues))
        yield api.url, engine.pids | {"api": [api.pid], "worker": [worker.process.pid]}
        log.info("stopping the API and the worker for %s", tag)
    log.info("stopped the API and the worker for %s", tag)


async def prepare(url: str, count: int) -> tuple[list[Shopper], int]:
    """Two stores, one product per shopper with stock that never runs out (no shared hot row),
    a pickup point, and `count` shoppers with funded wallets, mail accounts and sessions."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    password_hash = auth.hash_password(PASSWORD)
    shoppers = []
    try:
        async with transaction(sessions) as session:
            stores = [
                await store.add_store(session=session, name=name, address=f"Москва, {name}")
                for name in ("Склад 1", "Склад 2")
            ]
            category = await store.add_category(session=session, name="Кухня", slug="kitchen")
            assert category.id is not None
            product_ids = await store.add_products(
                session=session,
                products=[
                    store.NewProduct(
                        name=f"Чайник {n}",
                        description="Для нагрузочного теста оформления заказа",
                        price_kopecks=PRICE_KOPECKS,
                        category_id=category.id,
                        stock={s.id: STOCK_PER_STORE for s in stores if s.id is not None},
                    )
                    for n in range(count)
                ],
            )
            point = await delivery.add_pickup_point(
                session=session, name="ПВЗ", address="Москва, Тверская, 1"
            )
            assert point.id is not None
            for n, product_id in enumerate(product_ids):
                name = f"shopper{n:03d}"
                await add_funded_shopper(
                    session=session,
                    username=name,
                    password_hash=password_hash,
                    first_name="Покупатель",
                    last_name=str(n),
                    funds_kopecks=FUNDS_KOPECKS,
                    reference="bench",
                )
                _, token = await auth.login(
                    session=session,
                    username=name,
                    password=PASSWORD,
                    old_token=None,
                    ttl=timedelta(hours=6),
                )
                shoppers.append(Shopper(name, token, product_id))
    finally:
        await engine.dispose()
    return shoppers, point.id
