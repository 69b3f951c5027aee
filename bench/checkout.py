"""Checkout under load: the real store against the bare Temporal skeleton of its flow.

Both are measured side by side in one run on one Temporal dev server.

    .venv/bin/python -m bench.checkout [--shoppers 50] [--seconds 20] [--database sqlite|postgres]

A. checkout: shoppers drive the real API over HTTP (place → process → delivery → pay), served by
   the real worker, database and emulators. B. bare: as many loops drive
   `bench/checkout_workflows.py`'s no-op skeleton (same activities, child, Updates and client round
   trips) with a Temporal client, workflows and activities on one task queue; "split" is the same
   skeleton with the real worker's per-domain activity queues (a diagnostic row). Each flow with
   all loops, then with one alone. Prints the rows, the ratios against the targets and where the
   time goes (per request, per activity from the histories, CPU per process), and writes
   var/bench/checkout-<timestamp>.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import math
import os
import platform
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

from sqlalchemy import make_url
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.worker import Worker

from bench.catalog import VAR, _admin
from bench.checkout_workflows import (
    ACTIVITIES,
    BARE_QUEUE,
    DOMAINS,
    PRICE_KOPECKS,
    SPLIT_QUEUE,
    WORKFLOWS,
    domain_queue,
)
from bench.load import CpuMeter, CpuShares, Draws, Request, Stats, measure, run_loop, summarize
from bench.rawhttp import RawHTTPError
from bench.server import _stop, api_server, free_port
from core.db import create_engine, create_session_factory, normalize_database_url, transaction
from core.settings import Settings
from models.payloads import CheckoutInput, CheckoutState, DeliveryRequest, PayRequest
from services import auth, billing, delivery, notification, store
from workers.dev import temporal_command
from workers.migrate import upgrade_async
from workflows.policies import (
    BILLING_QUEUE,
    CHECKOUT_TIMEOUT,
    CUSTOMER_ID,
    DELIVERY_QUEUE,
    FLOW_STATUS,
    NOTIFICATION_QUEUE,
    ORDER_ID,
    ORDER_QUEUE,
    STORE_QUEUE,
    WORKFLOW_QUEUE,
)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
Database = Literal["sqlite", "postgres"]
BareWorker = Literal["process", "inline"]
# checkout: the real store over HTTP; bare: the skeleton on one queue (the baseline of the
# targets); split: the skeleton with the real worker's per-domain activity queues (diagnostic).
Flow = Literal["checkout", "bare", "split"]
# Bare first, then the store: the store's rows meet the larger Temporal database (conservative).
FLOWS: tuple[Flow, ...] = ("bare", "split", "checkout")
BARE_QUEUES: dict[Flow, str] = {"bare": BARE_QUEUE, "split": SPLIT_QUEUE}
WORKFLOW_TASKS = TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
ACTIVITY_TASKS = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
# The client-visible steps of one checkout. For the bare chain "process" is start + Update
# `ready` (what PUT /order/process does against Temporal) and "place" does not exist.
STEPS = ("place", "process", "delivery", "pay")
STOCK_PER_STORE = 10_000_000  # never runs out
FUNDS_KOPECKS = 10_000_000_00  # ten million roubles per shopper
CHECKOUT_TIMEOUT_SECONDS = 60.0  # one checkout that takes longer counts as failed
SETTLE_SECONDS = 2.0  # between rows: the order mails and history writes of the last one finish
PASSWORD = "bench password"  # noqa: S105 (throwaway shoppers of a scratch database)
T = TypeVar("T")
log = logging.getLogger("bench.checkout")


@dataclass(frozen=True)
class Options:
    shoppers: int
    seconds: float
    alone_seconds: float
    warmup: float
    database: Database
    pg_url: str
    bare_worker: BareWorker
    sample: int


# --- processes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Child:
    name: str
    process: asyncio.subprocess.Process
    log: Path


async def spawn(
    stack: AsyncExitStack, name: str, argv: Sequence[str], env: dict[str, str], logs: Path
) -> Child:
    """Start a child in its own session (a Ctrl-C reaches only us, and we stop it in order),
    output to a log file; stopped at the end of `stack` (SIGINT, then kill after 15 s)."""
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


async def wait_pollers(
    client: Client, child: Child | None, queues: list[tuple[str, TaskQueueType.ValueType]]
) -> None:
    """Until a worker polls each of `queues` (name, workflow or activity tasks)."""
    deadline = time.monotonic() + 60
    for queue, kind in queues:
        request = DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind
        )
        while not (await client.workflow_service.describe_task_queue(request)).pollers:
            if child is not None and child.process.returncode is not None:
                raise RuntimeError(f"{child.name} exited with {child.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no worker polls {queue} after 60 s")
            await asyncio.sleep(0.2)


def shop_env(values: dict[str, str]) -> dict[str, str]:
    """Our environment without the caller's SHOP_* settings, plus `values`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHOP_")}
    return env | values


@dataclass(frozen=True)
class Running:
    """Everything one run started: addresses and the PIDs whose CPU time is accounted."""

    temporal: Client
    api_url: str
    pids: dict[str, list[int]]  # process group → PIDs


@asynccontextmanager
async def database(opts: Options, scratch: Path) -> AsyncIterator[str]:
    """A fresh store database at the newest schema; a PostgreSQL one is dropped at the end."""
    if opts.database == "sqlite":
        url = f"sqlite+aiosqlite:///{scratch / 'shop.db'}"
        await upgrade_async(url)
        yield url
        return
    base = make_url(normalize_database_url(opts.pg_url))
    name = f"shopflow_bench_checkout_{uuid.uuid4().hex[:12]}"
    await _admin(base, f'CREATE DATABASE "{name}"')
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        await upgrade_async(url)
        yield url
    finally:
        await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def store_running(
    opts: Options, stack: AsyncExitStack, url: str, scratch: Path, logs: Path
) -> AsyncIterator[Running]:
    """Temporal dev server, mail and courier emulators, the real worker and API, and the bare
    chain's worker: all on free ports of 127.0.0.1."""
    python = sys.executable
    ports = {name: free_port() for name in ("temporal", "ui", "metrics", "http", "smtp", "mailbox")}
    ports["couriers"] = free_port()
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
        "SHOP_DATABASE_URL": url,
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
    # bench/server.py's API process (`workers.cli api` on a free port, waited for on /healthz);
    # it reaches Temporal lazily, so it can start before the worker.
    api = await stack.enter_async_context(
        api_server(url, log_path=logs / "api.log", settings=values)
    )
    values["SHOP_PUBLIC_URL"] = api.url  # the links in the worker's mails
    worker = await spawn(
        stack, "worker", [python, "-m", "workers.cli", "worker"], shop_env(values), logs
    )
    pids = {
        "temporal": [temporal.process.pid],
        "api": [api.pid],
        "worker": [worker.process.pid],
        "emulators": [mail.process.pid, couriers.process.pid],
    }
    client = await Client.connect(address)
    bare_queues = [(BARE_QUEUE, WORKFLOW_TASKS), (BARE_QUEUE, ACTIVITY_TASKS)]
    bare_queues += [(SPLIT_QUEUE, WORKFLOW_TASKS)]
    bare_queues += [(domain_queue(domain), ACTIVITY_TASKS) for domain in DOMAINS]
    if opts.bare_worker == "process":
        bare = await spawn(
            stack,
            "bare-worker",
            [python, "-m", "bench.checkout", "--serve-bare", address],
            shop_env(values),
            logs,
        )
        pids["bare worker"] = [bare.process.pid]
        await wait_pollers(client, bare, bare_queues)
    else:
        for worker_of_queue in bare_workers(client):
            await stack.enter_async_context(worker_of_queue)
        await wait_pollers(client, None, bare_queues)
    checkout_queues = (ORDER_QUEUE, STORE_QUEUE, DELIVERY_QUEUE, BILLING_QUEUE, NOTIFICATION_QUEUE)
    await wait_pollers(
        client,
        worker,
        [(WORKFLOW_QUEUE, WORKFLOW_TASKS)] + [(queue, ACTIVITY_TASKS) for queue in checkout_queues],
    )
    yield Running(temporal=client, api_url=api.url, pids=pids)


def bare_workers(client: Client) -> list[Worker]:
    """The bare chain's workers, with the SDK's defaults as the real worker has them (sandboxed
    workflows): one for BARE_QUEUE (workflows and activities), and for the split layout one for
    the workflows and one per domain's activities, as `workers/bootstrap.py` builds them."""
    workflows = list(WORKFLOWS)
    return [
        Worker(client, task_queue=BARE_QUEUE, workflows=workflows, activities=list(ACTIVITIES)),
        Worker(client, task_queue=SPLIT_QUEUE, workflows=workflows),
        *(
            Worker(client, task_queue=domain_queue(domain), activities=list(activities))
            for domain, activities in DOMAINS.items()
        ),
    ]


async def serve_bare(address: str) -> None:
    """`--serve-bare`: the bare chain's worker as a process of its own, until SIGINT."""
    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        for worker in bare_workers(client):
            await stack.enter_async_context(worker)
        await stop.wait()


# --- the store's data ----------------------------------------------------------------------


@dataclass(frozen=True)
class Shopper:
    username: str
    token: str
    product_id: int


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
                credential = await auth.stash_credential(
                    session=session, password_hash=password_hash
                )
                await auth.create_user(
                    session=session,
                    username=name,
                    first_name="Покупатель",
                    last_name=str(n),
                    email=f"{name}@example.ru",
                    phone="+79000000000",
                    credential_id=credential,
                )
                await billing.open_wallet(session=session, username=name)
                await billing.credit_wallet(
                    session=session,
                    username=name,
                    amount_kopecks=FUNDS_KOPECKS,
                    idempotency_key=f"fund-{name}",
                    reference="bench",
                )
                await notification.create_account(
                    session=session, username=name, email=f"{name}@example.ru", phone="+79000000000"
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


# --- A: the real checkout over HTTP --------------------------------------------------------


class HttpSession:
    """One shopper's keep-alive HTTP/1.1 connection with its session cookie; JSON in and out.

    `bench.rawhttp` sends only GETs and drops the answer; a checkout needs POST/PUT bodies and
    the answers (order id, version, step). Same idea: prebuilt bytes over asyncio streams, so the
    load generator costs a fraction of what the server does.

    uvicorn closes a keep-alive connection idle for 5 s, which a shopper's is between rows (and
    while a warm-up drains): one idle for longer than `IDLE_SECONDS` is reopened before use, so
    no request races the server's close.
    """

    IDLE_SECONDS = 2.0

    def __init__(self, base_url: str, token: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or HOST, parts.port or 80
        self.cookie = f"sessionId={token}"
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.used = 0.0  # time.monotonic() of the last answer

    async def call(self, method: str, target: str, body: object = None) -> tuple[int, Any]:
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Cookie: {self.cookie}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        if self.streams is not None and time.monotonic() - self.used > self.IDLE_SECONDS:
            await self.close()
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(head.encode("latin-1") + payload)
            answer = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = answer.decode("latin-1").split("\r\n")
            length = None
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                raise RawHTTPError("an answer without Content-Length")
            content = await reader.readexactly(length)
            self.used = time.monotonic()
        except asyncio.IncompleteReadError as error:
            await self.close()
            raise RawHTTPError("connection closed by the server") from error
        except BaseException:
            await self.close()  # a half-read answer leaves the stream unusable
            raise
        return int(status_line.split(" ", 2)[1]), json.loads(content) if content else None

    async def close(self) -> None:
        if self.streams is not None:
            writer, self.streams = self.streams[1], None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


@dataclass
class Recorder:
    """Per successful checkout: each step's duration, and the ids whose histories we read."""

    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    order_ids: list[str] = field(default_factory=list)

    def add(self, order_id: str, marks: Sequence[tuple[str, float]]) -> None:
        for (_, began), (step, ended) in itertools.pairwise(marks):
            self.steps[step].append(ended - began)
        self.order_ids.append(order_id)

    def p50_ms(self) -> dict[str, float]:
        return {step: statistics.median(d) * 1000 for step, d in self.steps.items() if d}


def _short(body: object) -> str:
    text = json.dumps(body, ensure_ascii=False) if body is not None else ""
    return text[:160]


async def real_checkout(
    http: HttpSession, shopper: Shopper, point_id: int, recorder: Recorder
) -> str | None:
    """Place, process, pickup, pay by wallet; None when pay answered PAID, else what failed."""
    clock = time.perf_counter
    marks = [("", clock())]
    item = {"product": {"id": shopper.product_id}, "quantity": 1}
    status, body = await http.call("POST", "/order/place", {"orderItems": [item]})
    if status != 200:
        return f"place: HTTP {status} {_short(body)}"
    order_id: str = body["id"]
    marks.append(("place", clock()))
    calls: list[tuple[str, str, str, object]] = [
        ("process", "PUT", "/order/process", {"id": order_id, "version": body["version"]}),
        (
            "delivery",
            "POST",
            f"/checkout/{order_id}/delivery",
            {"kind": "PICKUP", "pickupPointId": point_id},
        ),
        ("pay", "POST", f"/checkout/{order_id}/pay", {"method": "WALLET"}),
    ]
    for step, method, target, payload in calls:
        status, body = await http.call(method, target, payload)
        if status != 200:
            await _give_back(http, order_id)
            return f"{step}: HTTP {status} {_short(body)}"
        marks.append((step, clock()))
    if body.get("step") != "PAID":
        await _give_back(http, order_id)
        return f"pay: answered step {body.get('step')} {_short(body)}"
    recorder.add(order_id, marks)
    return None


async def _give_back(http: HttpSession, order_id: str) -> None:
    """After a failure: leave checkout and cancel the cart, so the next place can work."""
    try:
        await http.call("POST", f"/checkout/{order_id}/back")
        status, body = await http.call("GET", f"/order/get?orderId={order_id}")
        if status == 200 and body.get("status") == "NEW":
            await http.call("PUT", "/order/cancel", {"id": order_id, "version": body["version"]})
    except (OSError, RawHTTPError) as error:
        log.warning("could not give order %s back: %s", order_id, error)


# --- B: the bare chain through a Temporal client --------------------------------------------


async def bare_checkout(
    client: Client, queue: str, shopper: Shopper, recorder: Recorder
) -> str | None:
    """The real checkout's Temporal round trips against the bare workflow: start + `ready` (the
    API's PUT /order/process, same options), `choose_delivery`, `pay`."""
    clock = time.perf_counter
    marks = [("", clock())]
    order_id = str(uuid.uuid4())
    handle = await client.start_workflow(
        "BareCheckout",
        CheckoutInput(order_id=order_id, username=shopper.username, version=0),
        id=f"bare-checkout-{order_id}",
        task_queue=queue,
        result_type=CheckoutState,
        execution_timeout=CHECKOUT_TIMEOUT,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CUSTOMER_ID, shopper.username),
                SearchAttributePair(ORDER_ID, order_id),
                SearchAttributePair(FLOW_STATUS, "HOLDING"),
            ]
        ),
        static_summary=f"Оформление заказа {order_id[:8]} клиентом {shopper.username}",
    )
    await handle.execute_update("ready", result_type=CheckoutState)
    marks.append(("process", clock()))
    request = DeliveryRequest("PICKUP", pickup_point_id=1)
    await handle.execute_update("choose_delivery", request, result_type=CheckoutState)
    marks.append(("delivery", clock()))
    state = await handle.execute_update("pay", PayRequest("WALLET"), result_type=CheckoutState)
    if state.step != "PAID":
        return f"pay: answered step {state.step}"
    marks.append(("pay", clock()))
    recorder.add(order_id, marks)
    return None


def pooled(
    pool: Sequence[T], attempt: Callable[[T], Awaitable[str | None]], timeout: float
) -> Request:
    """A `bench.load.measure` request that takes a free member of `pool` for one attempt. With as
    many loops as members, a member is always free and serves one loop at a time."""
    idle: asyncio.Queue[T] = asyncio.Queue()
    for member in pool:
        idle.put_nowait(member)

    async def request(_: int) -> str | None:
        member = idle.get_nowait()
        try:
            return await asyncio.wait_for(attempt(member), timeout)
        except TimeoutError:
            return f"no answer in {timeout:.0f} s"
        except Exception as error:  # counted and reported like any failed checkout
            return f"{type(error).__name__}: {error}"
        finally:
            idle.put_nowait(member)

    return request


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    flow: Flow
    loops: int
    stats: Stats
    cpu: dict[str, float | None]  # % of one core per process group over the measured window
    step_p50_ms: dict[str, float]
    order_ids: list[str]

    @property
    def cpu_ms_per_checkout(self) -> dict[str, float | None]:
        rate = self.stats.rps
        return {k: (v * 10 / rate if v is not None and rate else None) for k, v in self.cpu.items()}


def _backend_ticks(database: str) -> dict[int, int]:
    """CPU ticks so far of each PostgreSQL backend serving `database` (its command line names
    it), so another program's use of the same server is not counted as ours."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
            if not command.startswith("postgres:") or f" {database} " not in command:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        found[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime
    return found


class ProcessCpu:
    """`bench.load.CpuMeter` for each process we started and this one, the PostgreSQL backends
    of our database, and what the rest of the machine did meanwhile."""

    def __init__(self, pids: dict[str, list[int]], *, database: str | None) -> None:
        self.database = database  # PostgreSQL database name; None for SQLite
        self.machine = CpuMeter(None)
        self.meters = {
            group: [CpuMeter(pid) for pid in group_pids] for group, group_pids in pids.items()
        }
        self.backends = _backend_ticks(database) if database else {}

    def read(self) -> tuple[CpuShares, dict[str, float | None]]:
        total = self.machine.read()
        shares: dict[str, float | None] = {"bench": total.client}
        for group, meters in self.meters.items():
            readings = [meter.read().server for meter in meters]
            shares[group] = None if None in readings else sum(r or 0.0 for r in readings)
        postgres = None
        if self.database:
            # Backends opened meanwhile count from zero; the pools keep theirs, so few exit.
            now = _backend_ticks(self.database)
            ticks = sum(now[pid] - self.backends.get(pid, 0) for pid in now)
            wall = time.perf_counter() - self.machine.wall
            postgres = shares["postgres"] = ticks / os.sysconf("SC_CLK_TCK") / wall * 100
        other = None
        if total.machine is not None:
            ours = sum(value or 0.0 for value in shares.values())
            other = max(0.0, total.machine * (os.cpu_count() or 1) - ours)
        shares["other"] = other
        return CpuShares(total.client, None, postgres, total.machine, other), shares


async def run_row(
    flow: Flow,
    attempt: Callable[[Shopper, Recorder], Awaitable[str | None]],
    shoppers: Sequence[Shopper],
    *,
    seconds: float,
    warmup: float,
    pids: dict[str, list[int]],
    database: str | None,
) -> Row:
    recorder = Recorder()
    request = pooled(shoppers, lambda shopper: attempt(shopper, recorder), CHECKOUT_TIMEOUT_SECONDS)
    loops = len(shoppers)
    every_time = Draws((1.0,), 0, loops)  # one kind of request: a whole checkout
    log.info("%s, %s loops: %s s warm-up + %s s", flow, loops, warmup, seconds)
    if warmup > 0:
        await measure(request, every_time, clients=loops, seconds=warmup)
        recorder.steps.clear()
        recorder.order_ids.clear()
    meter = ProcessCpu(pids, database=database)
    samples = await measure(request, every_time, clients=loops, seconds=seconds)
    shares, cpu = meter.read()
    await asyncio.sleep(SETTLE_SECONDS)
    stats = summarize(f"{flow} x{loops}", samples, shares)
    return Row(flow, loops, stats, cpu, recorder.p50_ms(), list(recorder.order_ids))


# --- what the histories say ----------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """What one checkout asks of Temporal by design, counted in its history and its child's.
    (How many workflow tasks and events it takes also depends on timing: see Timing.)"""

    workflows: int
    activities: dict[str, int]  # by activity name without its "domain." prefix
    updates: int
    timers: int

    @property
    def activity_count(self) -> int:
        return sum(self.activities.values())


@dataclass(frozen=True)
class Timing:
    """Medians over the sampled checkouts of a row, in ms. Per activity and per workflow task:
    wait (scheduled → picked up by a worker) and run (picked up → completed: the worker's own
    work, including its event loop's queueing). Per checkout: the sums of those, and how many
    workflow tasks and history events it took."""

    checkouts: int
    activity_wait_ms: dict[str, float]
    activity_run_ms: dict[str, float]
    workflow_task_wait_ms: float
    workflow_task_run_ms: float
    per_checkout_ms: dict[str, float]  # activity wait/run, workflow task wait/run: sums
    workflow_tasks: float
    events: float


def _ms(event: HistoryEvent) -> float:
    return event.event_time.ToNanoseconds() / 1e6


def _activity(event: HistoryEvent) -> str:
    return event.activity_task_scheduled_event_attributes.activity_type.name.rsplit(".", 1)[-1]


async def histories(client: Client, workflow_id: str) -> list[Sequence[HistoryEvent]]:
    """The run's history and, recursively, its child workflows'."""
    events = (await client.get_workflow_handle(workflow_id).fetch_history()).events
    found = [events]
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            found += await histories(client, child.workflow_id)
    return found


def shape_of(runs: list[Sequence[HistoryEvent]]) -> Shape:
    kinds: Counter[int] = Counter(event.event_type for events in runs for event in events)
    activities = Counter(
        _activity(event)
        for events in runs
        for event in events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    )
    return Shape(
        workflows=len(runs),
        activities=dict(sorted(activities.items())),
        updates=kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED],
        timers=kinds[EventType.EVENT_TYPE_TIMER_STARTED],
    )


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def timing_of(checkouts: list[list[Sequence[HistoryEvent]]]) -> Timing:
    waits: dict[str, list[float]] = defaultdict(list)
    runs: dict[str, list[float]] = defaultdict(list)
    task_waits: list[float] = []
    task_runs: list[float] = []
    sums: dict[str, list[float]] = defaultdict(list)
    tasks: list[float] = []
    events_per: list[float] = []
    for checkout in checkouts:
        spent: dict[str, float] = defaultdict(float)
        count = 0
        for events in checkout:
            by_id = {event.event_id: event for event in events}
            for event in events:
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    done = event.activity_task_completed_event_attributes
                    scheduled = by_id[done.scheduled_event_id]
                    started = by_id[done.started_event_id]
                    wait, run = _ms(started) - _ms(scheduled), _ms(event) - _ms(started)
                    waits[_activity(scheduled)].append(wait)
                    runs[_activity(scheduled)].append(run)
                    spent["activity wait"] += wait
                    spent["activity run"] += run
                elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                    task = event.workflow_task_completed_event_attributes
                    scheduled = by_id[task.scheduled_event_id]
                    started = by_id[task.started_event_id]
                    wait, run = _ms(started) - _ms(scheduled), _ms(event) - _ms(started)
                    task_waits.append(wait)
                    task_runs.append(run)
                    spent["workflow task wait"] += wait
                    spent["workflow task run"] += run
                    count += 1
        for key in ("activity wait", "activity run", "workflow task wait", "workflow task run"):
            sums[key].append(spent[key])
        tasks.append(count)
        events_per.append(sum(len(events) for events in checkout))
    return Timing(
        checkouts=len(checkouts),
        activity_wait_ms={name: _median(v) for name, v in sorted(waits.items())},
        activity_run_ms={name: _median(v) for name, v in sorted(runs.items())},
        workflow_task_wait_ms=_median(task_waits),
        workflow_task_run_ms=_median(task_runs),
        per_checkout_ms={key: _median(values) for key, values in sums.items()},
        workflow_tasks=_median(tasks),
        events=_median(events_per),
    )


def workflow_id(flow: Flow, order_id: str) -> str:
    return f"checkout-{order_id}" if flow == "checkout" else f"bare-checkout-{order_id}"


async def read_histories(
    client: Client, row: Row, sample: int
) -> tuple[Shape | None, Timing | None]:
    """The shape of the row's last checkout and the timing of up to `sample` of its last ones."""
    if not row.order_ids or sample <= 0:
        return None, None
    picked = row.order_ids[-sample:]
    runs = [await histories(client, workflow_id(row.flow, order_id)) for order_id in picked]
    return shape_of(runs[-1]), timing_of(runs)


# --- the ratios ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    target: float | None  # None: a diagnostic, no target
    at_least: bool = True  # the target is a floor (≥), else a ceiling (≤)

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.at_least else self.value <= self.target


def _divide(numerator: float, denominator: float) -> float:
    # NaN (a row where every checkout failed) fails any target instead of crashing the report.
    return numerator / denominator if denominator else math.nan


def ratios(rows: dict[str, Row]) -> list[Ratio]:
    def rps(name: str) -> float:
        return rows[name].stats.rps

    def p50(name: str) -> float:
        return rows[name].stats.p50_ms

    return [
        Ratio("checkout throughput / bare throughput", _divide(rps("checkout"), rps("bare")), 0.85),
        Ratio(
            "checkout alone latency / bare alone latency",
            _divide(p50("checkout alone"), p50("bare alone")),
            1.2,
            at_least=False,
        ),
        Ratio(
            "  split throughput / bare throughput",
            _divide(rps("split"), rps("bare")),
            None,
        ),
        Ratio(
            "  checkout throughput / split throughput",
            _divide(rps("checkout"), rps("split")),
            None,
        ),
        Ratio(
            "  split alone latency / bare alone latency",
            _divide(p50("split alone"), p50("bare alone")),
            None,
        ),
        Ratio(
            "  checkout alone latency / split alone latency",
            _divide(p50("checkout alone"), p50("split alone")),
            None,
        ),
    ]


# --- one run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    opts: Options
    rows: dict[str, Row]  # "checkout", "bare", "split", and each with " alone"
    shapes: dict[str, Shape | None]  # by flow, from its alone row (else its loaded one)
    timings: dict[str, Timing | None]  # by row
    ratios: list[Ratio]


async def bench(opts: Options) -> Result:
    VAR.mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        scratch = Path(
            stack.enter_context(tempfile.TemporaryDirectory(dir=VAR, prefix="checkout-"))
        )
        logs = VAR / f"checkout-logs-{opts.database}"
        logs.mkdir(exist_ok=True)
        url = await stack.enter_async_context(database(opts, scratch))
        log.info("store database %s", make_url(url).render_as_string(hide_password=True))
        shoppers, point_id = await prepare(url, opts.shoppers)
        running = await stack.enter_async_context(store_running(opts, stack, url, scratch, logs))
        client = running.temporal
        sessions = {s.username: HttpSession(running.api_url, s.token) for s in shoppers}
        stack.push_async_callback(_close_all, list(sessions.values()))

        def attempt_of(flow: Flow) -> Callable[[Shopper, Recorder], Awaitable[str | None]]:
            if flow == "checkout":
                return lambda shopper, recorder: real_checkout(
                    sessions[shopper.username], shopper, point_id, recorder
                )
            queue = BARE_QUEUES[flow]
            return lambda shopper, recorder: bare_checkout(client, queue, shopper, recorder)

        rows: dict[str, Row] = {}
        postgres = make_url(url).database if opts.database == "postgres" else None
        options: dict[str, Any] = {"pids": running.pids, "database": postgres}
        for flow in FLOWS:
            rows[flow] = await run_row(
                flow,
                attempt_of(flow),
                shoppers,
                seconds=opts.seconds,
                warmup=opts.warmup,
                **options,
            )
        for flow in FLOWS:
            rows[f"{flow} alone"] = await run_row(
                flow,
                attempt_of(flow),
                shoppers[:1],
                seconds=opts.alone_seconds,
                warmup=1.0,
                **options,
            )
        log.info("reading histories")
        shapes: dict[str, Shape | None] = {}
        timings: dict[str, Timing | None] = {}
        for name in reversed(rows):  # alone rows first: their shape is the undisturbed one
            shape, timings[name] = await read_histories(client, rows[name], opts.sample)
            if shapes.get(rows[name].flow) is None:
                shapes[rows[name].flow] = shape
        timings = {name: timings[name] for name in rows}
        log.info("stopping")
    return Result(opts, rows, shapes, timings, ratios(rows))


async def _close_all(sessions: list[HttpSession]) -> None:
    for session in sessions:
        await session.close()


# --- reporting -------------------------------------------------------------------------------

NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
LABELS = {
    "checkout": "checkout: HTTP, real store",
    "bare": "bare chain, one queue",
    "split": "bare chain, per-domain queues",
}
SHORT = {"checkout": "checkout", "bare": "bare", "split": "split"}


def _label(row: str) -> str:
    flow, _, alone = row.partition(" ")
    return LABELS[flow] + (", alone" if alone else "")


def _column(row: str) -> str:
    flow, _, alone = row.partition(" ")
    return SHORT[flow] + (" alone" if alone else "")


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def render(result: Result) -> str:
    opts, rows = result.opts, result.rows
    where = "its own process" if opts.bare_worker == "process" else "the benchmark's process"
    lines = [
        "",
        f"== bench.checkout | {NAMES[opts.database]} | {opts.shoppers} shoppers × "
        f"{opts.seconds:g} s (+{opts.warmup:g} s warm-up), one alone × {opts.alone_seconds:g} s"
        f" | bare worker in {where} | {os.cpu_count()} CPUs ==",
        "",
        f"{'':40}{'chk/s':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'fails':>6}"
        f"{'other%':>8}",
    ]
    for name, row in rows.items():
        s = row.stats
        lines.append(
            f"{_label(name):40}{s.rps:7.1f}{s.p50_ms:9.1f}{s.p95_ms:9.1f}{s.p99_ms:9.1f}"
            f"{s.max_ms:9.1f}{s.failures:6}{_num(row.cpu.get('other')):>8}"
        )
        if s.first_failure:
            lines.append(f"{'':40}first failure: {s.first_failure}")
    lines += _render_cpu(result)
    lines += ["", f"{'p50 ms per request':40}" + "".join(f"{s:>10}" for s in STEPS) + "   total"]
    for name, row in rows.items():
        lines.append(
            f"{_label(name):40}"
            + "".join(f"{_num(row.step_p50_ms.get(step), 1):>10}" for step in STEPS)
            + f"{row.stats.p50_ms:8.1f}"
        )
    lines += _render_histories(result)
    lines += ["", f"{'ratio':52}{'value':>8}   target"]
    for ratio in result.ratios:
        if ratio.target is None:
            lines.append(f"{ratio.name:52}{ratio.value:8.2f}   (diagnostic)")
            continue
        target = f"{'≥' if ratio.at_least else '≤'} {ratio.target:g}"
        lines.append(
            f"{ratio.name:52}{ratio.value:8.2f}   {target:8} {'PASS' if ratio.passed else 'FAIL'}"
        )
    return "\n".join(lines)


def _render_cpu(result: Result) -> list[str]:
    rows = result.rows
    groups = list(rows["checkout"].cpu)
    header = "".join(f"{g[:10]:>11}" for g in groups)
    lines = ["", f"{'CPU, % of one core':40}{header}"]
    for name, row in rows.items():
        lines.append(f"{_label(name):40}" + "".join(f"{_num(row.cpu[g]):>11}" for g in groups))
    lines += ["", f"{'CPU ms per checkout (ours, not other)':40}{header[:-11]}{'total':>11}"]
    for name, row in rows.items():
        per = row.cpu_ms_per_checkout
        ours = [g for g in groups if g != "other"]
        total = sum(per[g] or 0.0 for g in ours)
        lines.append(
            f"{_label(name):40}"
            + "".join(f"{_num(per[g], 1):>11}" for g in ours)
            + f"{total:11.1f}"
        )
    return lines


def _render_histories(result: Result) -> list[str]:
    lines = ["", "what one checkout asks of Temporal (its history + the payment child's):"]
    for flow in FLOWS:
        shape = result.shapes.get(flow)
        if shape is None:
            lines.append(f"  {flow:9}(no successful checkout)")
            continue
        names = ", ".join(f"{n}×{c}" if c > 1 else n for n, c in shape.activities.items())
        lines.append(
            f"  {flow:9}{shape.activity_count} activities ({names}); {shape.workflows} workflows,"
            f" {shape.updates} Updates, {shape.timers} timers"
        )
    found = [shape for shape in result.shapes.values() if shape is not None]
    if len(found) == len(FLOWS):
        same = all(shape == found[0] for shape in found)
        lines.append(
            "  the same in every flow"
            if same
            else "  DIFFERENT: the bare chain is not the checkout's skeleton"
        )
    timings = {name: t for name, t in result.timings.items() if t is not None}
    if not timings:
        return lines
    activities = sorted({n for t in timings.values() for n in t.activity_run_ms})
    lines += [
        "",
        f"median ms from the last {result.opts.sample} checkouts' histories per row: "
        "wait (scheduled → picked up) / run (picked up → completed)",
        f"{'':26}" + "".join(f"{_column(name):>15}" for name in timings),
    ]

    def pair(wait: float | None, run: float | None, digits: int = 1) -> str:
        def cell(value: float | None) -> str:
            return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"

        return f"{cell(wait)}/{cell(run)}"

    for activity in activities:
        cells = [
            pair(t.activity_wait_ms.get(activity), t.activity_run_ms.get(activity))
            for t in timings.values()
        ]
        lines.append(f"  {activity:24}" + "".join(f"{cell:>15}" for cell in cells))
    cells = [pair(t.workflow_task_wait_ms, t.workflow_task_run_ms) for t in timings.values()]
    lines.append(f"  {'one workflow task':24}" + "".join(f"{cell:>15}" for cell in cells))
    lines.append("  per checkout (sums):")
    for kind, label in (("activity", "activities"), ("workflow task", "workflow tasks")):
        cells = [
            pair(t.per_checkout_ms.get(f"{kind} wait"), t.per_checkout_ms.get(f"{kind} run"), 0)
            for t in timings.values()
        ]
        lines.append(f"    {label:22}" + "".join(f"{cell:>15}" for cell in cells))
    counts = [f"{_num(t.workflow_tasks)}/{_num(t.events)}" for t in timings.values()]
    lines.append(f"  {'  wf tasks / events':24}" + "".join(f"{cell:>15}" for cell in counts))
    return lines


def write_json(result: Result, started: datetime) -> str:
    document = {
        "started": started.isoformat(),
        "options": asdict(result.opts)
        | {"pg_url": make_url(result.opts.pg_url).render_as_string()},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "sqlite": sqlite3.sqlite_version,
        },
        "rows": {
            name: {
                "stats": asdict(row.stats),
                "cpu_percent_of_core": row.cpu,
                "cpu_ms_per_checkout": row.cpu_ms_per_checkout,
                "step_p50_ms": row.step_p50_ms,
            }
            for name, row in result.rows.items()
        },
        "shapes": {k: None if v is None else asdict(v) for k, v in result.shapes.items()},
        "timings": {k: None if v is None else asdict(v) for k, v in result.timings.items()},
        "ratios": [asdict(r) | {"passed": r.passed} for r in result.ratios],
    }
    path = VAR / f"checkout-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2))
    return str(path)


# --- entry point -----------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> Options | str:
    """The options, or the Temporal address when this process is the bare chain's worker."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.checkout", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--shoppers", type=int, default=50, help="concurrent shoppers (loops)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per flow")
    parser.add_argument(
        "--alone-seconds", type=float, default=5.0, help="measured time of one shopper alone"
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured time before a row")
    parser.add_argument("--database", choices=get_args(Database), default="sqlite")
    parser.add_argument(
        "--pg-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL database; the benchmark's own is created next to it and dropped",
    )
    parser.add_argument(
        "--bare-worker",
        choices=get_args(BareWorker),
        default="process",
        help="the bare chain's worker in its own process (default, as the real one) or in ours",
    )
    parser.add_argument(
        "--sample", type=int, default=20, help="histories read per row for the time breakdown"
    )
    parser.add_argument("--serve-bare", metavar="ADDRESS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        return str(args.serve_bare)
    if args.shoppers < 1 or args.seconds <= 0 or args.alone_seconds <= 0 or args.warmup < 0:
        parser.error("--shoppers, --seconds and --alone-seconds must be positive")
    return Options(
        shoppers=args.shoppers,
        seconds=args.seconds,
        alone_seconds=args.alone_seconds,
        warmup=args.warmup,
        database=args.database,
        pg_url=args.pg_url,
        bare_worker=args.bare_worker,
        sample=args.sample,
    )


async def run(opts: Options) -> None:
    started = datetime.now(UTC)
    result = await bench(opts)
    print(render(result), flush=True)
    print(f"\nresults: {write_json(result, started)}")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the readiness polls, one line each
    parsed = parse(argv)
    if isinstance(parsed, str):
        # As workers/cli.py runs the real worker: the default event loop, and no interpreter
        # teardown while the SDK's threads may still hold Python state (sdk-python#300).
        asyncio.run(serve_bare(parsed))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    run_loop(run(parsed))


if __name__ == "__main__":
    main()
