"""The store deployed on this machine the way production deploys it: a PostgreSQL database of its
own, migrated and seeded by `shopflow migrate` and `shopflow seed`; a Temporal dev server of its
own (the dev supervisor's command line: search attributes registered, state in a temporary
directory); the mail, SMS, courier and bank emulators; TWO `shopflow api` processes and ONE
`shopflow worker --queue Q` process per task queue of the split layout. Every one is a process
configured only by SHOP_* environment variables (no dev secret), listening on 127.0.0.1 ports
chosen free, its output in a log file, stopped by its PID."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from adapters.couriers import FakeCourierGateway
from adapters.mailer import RecordingMailer
from core.db import SessionFactory, create_engine, create_session_factory, normalize_database_url
from core.settings import Settings
from models.payloads import Queues
from tests.conftest import (
    PG_URL,
    BankEmulator,
    MailEmulator,
    bank_process,
    create_pg_database,
    drop_pg_database,
    emulator_process,
    free_ports,
    unique_queues,
)
from tests.support.fake_bank import FakeBankGateway
from tests.support.store import tail
from workers.bootstrap import Dependencies, activities_by_domain
from workers.dev import temporal_command
from workers.processes import die_with_parent, stop_all

POSTGRES = bool(PG_URL) and make_url(normalize_database_url(PG_URL)).get_backend_name() == (
    "postgresql"
)
START_BOUND = 120.0  # each phase of the start (a busy 2-core machine starts 13 processes)
ONE_SHOT_BOUND = 120.0  # `shopflow migrate`, `shopflow seed`
STOP_BOUND = 15.0  # SIGTERM to the APIs and workers, then SIGKILL for what is left
TEMPORAL_STOP_BOUND = 10.0
LOG_TAIL_LINES = 60
WORKFLOW_TASKS = TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
ACTIVITY_TASKS = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY


@dataclass(frozen=True)
class Child:
    """One process of the deployment and its log."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"{self.name} (pid {self.pid}) exited with {self.process.returncode};"
                f" log {self.log}:\n{tail(self.log, LOG_TAIL_LINES)}"
            )


@dataclass(frozen=True)
class Deployment:
    database_url: str
    sessions: SessionFactory  # the test's own connection to the deployment's database
    temporal: Client  # the test's own client of the deployment's Temporal
    queues: Queues
    api_urls: tuple[str, ...]
    mail: MailEmulator
    apis: tuple[Child, ...]
    workers: dict[str, Child]  # task queue → the one process serving it
    log_dir: Path  # every process's log, the emulators' too

    @property
    def flows(self) -> Child:
        return self.workers[self.queues.workflows]

    def log_tails(self) -> list[tuple[str, str]]:
        """(log name, its last lines) for every process of the deployment."""
        return [
            (path.name, tail(path, LOG_TAIL_LINES)) for path in sorted(self.log_dir.glob("*.log"))
        ]

    def pid_of(self, identity: str) -> int:
        """The PID in a Temporal worker identity (`<pid>@<host>`, the SDK's default)."""
        pid, _, host = identity.partition("@")
        assert host == socket.gethostname(), identity
        return int(pid)

    async def pollers(self, queue: str) -> set[int]:
        """The PIDs of the processes Temporal saw polling `queue` (workflow tasks on the flows
        queue, activity tasks on a domain's)."""
        request = DescribeTaskQueueRequest(
            namespace=self.temporal.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=task_type(queue),
        )
        answer = await self.temporal.workflow_service.describe_task_queue(request)
        return {self.pid_of(poller.identity) for poller in answer.pollers}

    async def who_ran(self, workflow_id: str) -> list[tuple[str, str, int]]:
        """(task queue, activity, PID of the worker that ran it) for every activity task of the
        run's history, after checking that the flows process completed every one of its workflow
        tasks (local activities run there too, inside those tasks)."""
        history = await self.temporal.get_workflow_handle(workflow_id).fetch_history()
        scheduled: dict[int, tuple[str, str]] = {}
        ran = []
        workflow_tasks = 0
        for event in history.events:
            if event.HasField("workflow_task_completed_event_attributes"):
                # The completion names the worker (the start of an Update's speculative task
                # names none).
                identity = event.workflow_task_completed_event_attributes.identity
                assert self.pid_of(identity) == self.flows.pid, (workflow_id, identity)
                workflow_tasks += 1
            elif event.HasField("activity_task_scheduled_event_attributes"):
                attributes = event.activity_task_scheduled_event_attributes
                scheduled[event.event_id] = (
                    attributes.task_queue.name,
                    attributes.activity_type.name,
                )
            elif event.HasField("activity_task_started_event_attributes"):
                started = event.activity_task_started_event_attributes
                queue, activity = scheduled[started.scheduled_event_id]
                ran.append((queue, activity, self.pid_of(started.identity)))
        assert workflow_tasks, workflow_id
        return ran

    async def assert_run_apart(self, *workflow_ids: str) -> set[str]:
        """Every activity task of these runs ran in the one worker process of its own domain's
        queue (and every workflow task in the flows process); the queues that ran any."""
        domains: set[str] = set()
        for workflow_id in workflow_ids:
            for queue, activity, pid in await self.who_ran(workflow_id):
                assert queue != self.queues.workflows, (workflow_id, queue, activity)
                assert queue in self.workers, (workflow_id, queue, activity)
                assert pid == self.workers[queue].pid, (workflow_id, queue, activity, pid)
                domains.add(queue)
        return domains


def split_queues(queues: Queues, sessions: SessionFactory) -> list[str]:
    """The task queues of the split layout: the flows queue, then one per domain of
    workers/bootstrap.activities_by_domain."""
    stand_ins = Dependencies(
        engine=None,
        session_factory=sessions,
        mailer=RecordingMailer(),
        store_url="",
        couriers=FakeCourierGateway(),
        bank=FakeBankGateway(),
    )
    return [queues.workflows, *(queues.activities(d) for d in activities_by_domain(stand_ins))]


def task_type(queue: str) -> TaskQueueType.ValueType:
    """What the workers of `queue` poll for: workflow tasks on the flows queue, else activity
    tasks."""
    return WORKFLOW_TASKS if queue.endswith("-flows") else ACTIVITY_TASKS


def serving(queue: str) -> re.Pattern[str]:
    """The worker's log line once it serves exactly `queue` (workers/worker.py)."""
    return re.compile(rf"worker serving {re.escape(queue)}$", re.MULTILINE)


def shopflow(*args: str) -> list[str]:
    """The `shopflow` command as installed beside this Python (the project's console script)."""
    script = Path(sys.executable).parent / "shopflow"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "workers.cli", *args]


def deployment_env(values: dict[str, str]) -> dict[str, str]:
    """This process's environment without any SHOP_* setting of its own, plus `values`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHOP_")}
    return env | values


def launch(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Child:
    """Start `command` with its output in `<log_dir>/<name>.log`; the child dies with this
    process (PR_SET_PDEATHSIG) and runs in `log_dir`, so no `.env` or `var/` of the work tree is
    read."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=log_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    return Child(name, process, log)


def stop(children: list[Child], bound: float) -> list[str]:
    """SIGTERM to each (by its PID) at once, SIGKILL for any still running after `bound`; the
    names of those that had to be killed."""
    return stop_all([(child.name, child.process) for child in children], bound=bound)


def answers_health(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


async def completed(child: Child, bound: float = ONE_SHOT_BOUND) -> None:
    """Wait for a one-shot command (migrate, seed) to succeed."""
    deadline = time.monotonic() + bound
    while child.process.poll() is None:
        if time.monotonic() > deadline:
            stop([child], 5.0)
            pytest.fail(f"{child.name} still running after {bound:.0f} s:\n{tail(child.log)}")
        await asyncio.sleep(0.1)
    if child.process.returncode != 0:
        pytest.fail(f"{child.name} exited with {child.process.returncode}:\n{tail(child.log)}")


async def connected(address: str, temporal: Child, deadline: float) -> Client:
    while True:
        temporal.check_alive()
        if listens(int(address.rpartition(":")[2])):
            try:
                return await Client.connect(address)
            except RuntimeError:
                pass
        if time.monotonic() > deadline:
            pytest.fail(f"Temporal not reachable at {address}:\n{tail(temporal.log)}")
        await asyncio.sleep(0.2)


async def polled(client: Client, queue: str, worker: Child, deadline: float) -> None:
    """Until the worker's log says it serves exactly `queue` and Temporal counts it (by its PID)
    among the queue's pollers."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=task_type(queue),
    )
    while True:
        worker.check_alive()
        if serving(queue).search(worker.text()):
            pollers = (await client.workflow_service.describe_task_queue(request)).pollers
            if any(p.identity.startswith(f"{worker.pid}@") for p in pollers):
                return
        if time.monotonic() > deadline:
            pytest.fail(f"{worker.name} does not poll {queue}:\n{tail(worker.log)}")
        await asyncio.sleep(0.2)


async def healthy(api: Child, url: str, deadline: float) -> None:
    while not answers_health(url):
        api.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"{api.name} does not answer {url}/healthz:\n{tail(api.log)}")
        await asyncio.sleep(0.2)


def secret(what: str) -> str:
    """A secret of this deployment alone (never the dev defaults, which start with "dev-")."""
    return f"{what}-{secrets.token_hex(16)}"


@asynccontextmanager
async def deployed(log_dir: Path) -> AsyncIterator[Deployment]:
    """The whole store as processes, yielded once every API answers and every worker polls."""
    async with AsyncExitStack() as stack:
        database_url, name = await create_pg_database(PG_URL)
        stack.push_async_callback(drop_pg_database, PG_URL, name)
        engine = create_engine(database_url)
        stack.push_async_callback(engine.dispose)
        sessions = create_session_factory(engine)

        ports = free_ports(8)  # at once, so none repeats
        temporal_port, ui_port, smtp_port, mailbox_port, sms_port, couriers_port = ports[:6]
        api_ports = ports[6:]
        temporal_address = f"127.0.0.1:{temporal_port}"
        (log_dir / "temporal").mkdir()
        temporal_settings = Settings(
            host="127.0.0.1",
            temporal_address=temporal_address,
            temporal_ui_port=ui_port,
            temporal_namespace="default",
            data_dir=log_dir / "temporal",
        )
        temporal = launch(
            "temporal", temporal_command(temporal_settings), os.environ.copy(), log_dir
        )
        stack.callback(stop, [temporal], TEMPORAL_STOP_BOUND)  # the last to stop of the children
        one_shot = deployment_env(
            {"SHOP_ENVIRONMENT": "test", "SHOP_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
        )
        migrate = launch("migrate", shopflow("migrate"), one_shot, log_dir)
        stack.callback(stop, [migrate], 5.0)

        mail = MailEmulator(smtp_port=smtp_port, http_url=f"http://127.0.0.1:{mailbox_port}")
        mail_args = ["--smtp-port", str(smtp_port), "--http-port", str(mailbox_port)]
        stack.enter_context(
            emulator_process("emulators.mail", mail_args, f"{mail.http_url}/api/messages", log_dir)
        )
        sms_key = secret("sms-key")
        sms_url = f"http://127.0.0.1:{sms_port}"
        sms_args = ["--host", "127.0.0.1", "--port", str(sms_port), "--api-key", sms_key]
        stack.enter_context(
            emulator_process("emulators.sms", sms_args, f"{sms_url}/healthz", log_dir)
        )
        couriers_url = f"http://127.0.0.1:{couriers_port}"
        couriers_args = ["--host", "127.0.0.1", "--port", str(couriers_port)]
        stack.enter_context(
            emulator_process(
                "emulators.couriers", couriers_args, f"{couriers_url}/healthz", log_dir
            )
        )
        bank: BankEmulator = stack.enter_context(
            bank_process(log_dir, secret=secret("bank-callback"), retry_ms=200, attempts=6)
        )

        await completed(migrate)  # the schema first, then the store's processes
        seed = launch("seed", shopflow("seed"), one_shot, log_dir)
        stack.callback(stop, [seed], 5.0)
        queues = unique_queues(split=True)
        api_urls = tuple(f"http://127.0.0.1:{port}" for port in api_ports)
        settings = {
            "SHOP_ENVIRONMENT": "test",
            "SHOP_DATA_DIR": str(log_dir / "var"),
            "SHOP_DATABASE_URL": database_url,
            "SHOP_HOST": "127.0.0.1",
            "SHOP_PUBLIC_URL": api_urls[0],  # the store's address in mails and for the bank
            "SHOP_TEMPORAL_ADDRESS": temporal_address,
            "SHOP_TEMPORAL_NAMESPACE": "default",
            "SHOP_TASK_QUEUE_PREFIX": queues.prefix,
            "SHOP_SPLIT_TASK_QUEUES": "true",
            "SHOP_SMTP_HOST": "127.0.0.1",
            "SHOP_SMTP_PORT": str(mail.smtp_port),
            "SHOP_SMS_URL": sms_url,
            "SHOP_SMS_API_KEY": sms_key,
            "SHOP_COURIERS_URL": couriers_url,
            "SHOP_BANK_URL": bank.url,
            "SHOP_BANK_CALLBACK_SECRET": bank.secret,
            "SHOP_SERVICE_KEY": secret("service-key"),
            "SHOP_GIFT_CARD_SECRET": secret("gift-card"),
            "SHOP_ACCOUNT_SECRET": secret("account"),
            # A load test, not a deadline test (as tests/api/test_checkout_race.py): on a busy
            # 2-core machine 50 checkouts at once may wait past a shopper's 20 s bound.
            "SHOP_UPDATE_WAIT_SECONDS": "120",
            "SHOP_REGISTRATION_WAIT_SECONDS": "60",
            "PYTHONUNBUFFERED": "1",
        }
        workers = {
            queue: launch(
                f"worker-{queue.removeprefix(queues.prefix + '-')}",
                shopflow("worker", "--queue", queue),
                deployment_env(settings),
                log_dir,
            )
            for queue in split_queues(queues, sessions)
        }
        apis = tuple(
            launch(
                f"api-{n}",
                shopflow("api"),
                deployment_env(settings | {"SHOP_API_PORT": str(port)}),
                log_dir,
            )
            for n, port in enumerate(api_ports)
        )
        everyone = [*apis, *workers.values()]
        stack.callback(stop, everyone, STOP_BOUND)  # before Temporal: they report to it

        await completed(seed)
        deadline = time.monotonic() + START_BOUND
        client = await connected(temporal_address, temporal, deadline)
        for queue, worker in workers.items():
            await polled(client, queue, worker, deadline)
        for api, url in zip(apis, api_urls, strict=True):
            await healthy(api, url, deadline)

        yield Deployment(
            database_url=database_url,
            sessions=sessions,
            temporal=client,
            queues=queues,
            api_urls=api_urls,
            mail=mail,
            apis=apis,
            workers=workers,
            log_dir=log_dir,
        )
        for child in everyone:
            child.check_alive()  # none died while the tests ran
