"""Real-browser fixtures: the whole store started the way a newcomer starts it (`shopflow dev`),
every port chosen free at runtime, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import free_ports

REPO_ROOT = Path(__file__).parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
LOG_TAIL_LINES = 80

T = TypeVar("T")


@dataclass(frozen=True)
class Store:
    """Where the running store answers."""

    base_url: str
    mailbox_url: str
    bank_url: str
    temporal_address: str
    ui_url: str
    log_path: Path

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.log_path, lines)


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def eventually(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll `check` until it returns something other than None (or fail after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def _answers(url: str, *, expect_ok: bool) -> bool:
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 if expect_ok else True


def _store_env(data_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    # Inherited SHOP_* settings must not leak in; a developer's .env is overridden explicitly.
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHOP_")}
    env.update(
        {
            "SHOP_ENVIRONMENT": "dev",
            "SHOP_DATA_DIR": str(data_dir),
            "SHOP_DATABASE_URL": "",
            "SHOP_PUBLIC_URL": "",
            "SHOP_HOST": "127.0.0.1",
            "SHOP_API_PORT": str(ports["api"]),
            "SHOP_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
            "SHOP_TEMPORAL_UI_PORT": str(ports["ui"]),
            "SHOP_SMTP_HOST": "127.0.0.1",
            "SHOP_SMTP_PORT": str(ports["smtp"]),
            "SHOP_MAILBOX_PORT": str(ports["mailbox"]),
            "SHOP_COURIERS_PORT": str(ports["couriers"]),
            "SHOP_COURIERS_URL": "",
            "SHOP_BANK_PORT": str(ports["bank"]),
            "SHOP_BANK_URL": "",
            # A bank payment left on the bank's page is given up soon, to test the retry.
            "SHOP_BANK_WAIT_MINUTES": "2",
            "SHOP_BANK_POLL_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


# Package scope, not session: started once for all of tests/browser and stopped as soon as the
# suite leaves this folder. Playwright's sync API keeps its event loop marked as running on the main
# thread until it stops, which would break every pytest-asyncio test collected after this folder.
@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The whole store, started by the real dev supervisor: `python -m workers.cli dev`."""
    data_dir = tmp_path_factory.mktemp("store")
    log_path = data_dir / "store.log"
    api, temporal, ui, smtp, mailbox, couriers, bank = free_ports(7)
    ports = {
        "api": api,
        "temporal": temporal,
        "ui": ui,
        "smtp": smtp,
        "mailbox": mailbox,
        "couriers": couriers,
        "bank": bank,
    }
    running = Store(
        base_url=f"http://127.0.0.1:{api}",
        mailbox_url=f"http://127.0.0.1:{mailbox}",
        bank_url=f"http://127.0.0.1:{bank}",
        temporal_address=f"127.0.0.1:{temporal}",
        ui_url=f"http://127.0.0.1:{ui}",
        log_path=log_path,
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "dev"],
            cwd=REPO_ROOT,
            env=_store_env(data_dir, ports),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not (
                _answers(f"{running.base_url}/healthz", expect_ok=True)
                and _answers(f"{running.mailbox_url}/api/messages", expect_ok=False)
            ):
                if process.poll() is not None:
                    pytest.fail(
                        f"`workers.cli dev` exited with code {process.returncode} while starting;"
                        f" log {log_path}:\n{_tail(log_path)}"
                    )
                if time.monotonic() >= deadline:
                    pytest.fail(
                        f"the store did not answer within {START_TIMEOUT:.0f} s;"
                        f" log {log_path}:\n{_tail(log_path)}"
                    )
                time.sleep(0.25)
            yield running
            crashed = process.poll()
        finally:
            _stop(process)
    if crashed is not None:
        pytest.fail(
            f"`workers.cli dev` exited with code {crashed} during the tests;"
            f" log {log_path}:\n{_tail(log_path)}"
        )


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (never a Playwright download)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: browser tests need Debian's Chromium"
            " (apt-get install -y chromium); `playwright install` is not used here"
        )
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, store: Store) -> Iterator[Page]:
    """A fresh page in a fresh context (no cookies shared between tests)."""
    context = browser.new_context(base_url=store.base_url, locale="ru-RU")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, attach the tail of the store's log to the report."""
    report = yield
    store_fixture = getattr(item, "funcargs", {}).get("store")
    if report.failed and isinstance(store_fixture, Store):
        report.sections.append(("store log (tail)", store_fixture.log_tail()))
    return report
