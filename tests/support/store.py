"""The whole store started the way a newcomer starts it (`python -m workers.cli dev`): every port
chosen free at runtime on 127.0.0.1, its own data directory, its output in a log file, stopped by
its PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_ports

REPO_ROOT = Path(__file__).parents[2]
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
LOG_TAIL_LINES = 80
MAIL_TIMEOUT_S = 20.0  # from the step that sends a mail to the mail in the mailbox


@dataclass(frozen=True)
class Store:
    """Where the running store answers."""

    base_url: str
    mailbox_url: str
    sms_url: str
    bank_url: str
    temporal_address: str
    ui_url: str
    log_path: Path
    oidc_url: str = ""  # the sign-in provider emulator

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return tail(self.log_path, lines)

    def messages(self, to: str) -> list[dict[str, Any]]:
        """The mails to `to` in the store's mailbox (the mail emulator), oldest first."""
        response = httpx.get(f"{self.mailbox_url}/api/messages", params={"to": to}, timeout=5.0)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found

    def sms_messages(self, to: str) -> list[dict[str, Any]]:
        """The SMS to `to` (+7XXXXXXXXXX) in the SMS emulator's inbox, newest first."""
        response = httpx.get(f"{self.sms_url}/api/messages", params={"to": to}, timeout=5.0)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def answers(url: str, *, expect_ok: bool) -> bool:
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 if expect_ok else True


def store_env(data_dir: Path, ports: dict[str, int]) -> dict[str, str]:
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
            "SHOP_SMS_PORT": str(ports["sms"]),
            "SHOP_SMS_URL": "",
            "SHOP_COURIERS_PORT": str(ports["couriers"]),
            "SHOP_COURIERS_URL": "",
            "SHOP_BANK_PORT": str(ports["bank"]),
            "SHOP_BANK_URL": "",
            "SHOP_OIDC_PORT": str(ports["oidc"]),
            # A bank payment left on the bank's page is given up soon, to test the retry.
            "SHOP_BANK_WAIT_MINUTES": "2",
            "SHOP_BANK_POLL_SECONDS": "5",
            # Every browser test registers its shoppers from this one address.
            "SHOP_REGISTRATIONS_PER_ADDRESS": "100000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C to the supervisor (by its PID); SIGKILL if it is not gone within STOP_TIMEOUT."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def launched_store(data_dir: Path) -> Iterator[tuple[Store, subprocess.Popen[bytes]]]:
    """`python -m workers.cli dev` on free ports with its data in `data_dir`, yielded (with the
    supervisor's process) as soon as it is launched; stopped when the block ends unless the block
    already stopped it."""
    log_path = data_dir / "store.log"
    api, temporal, ui, smtp, mailbox, sms, couriers, bank, oidc = free_ports(9)
    ports = {
        "api": api,
        "temporal": temporal,
        "ui": ui,
        "smtp": smtp,
        "mailbox": mailbox,
        "sms": sms,
        "couriers": couriers,
        "bank": bank,
        "oidc": oidc,
    }
    launched = Store(
        base_url=f"http://127.0.0.1:{api}",
        mailbox_url=f"http://127.0.0.1:{mailbox}",
        sms_url=f"http://127.0.0.1:{sms}",
        bank_url=f"http://127.0.0.1:{bank}",
        temporal_address=f"127.0.0.1:{temporal}",
        ui_url=f"http://127.0.0.1:{ui}",
        log_path=log_path,
        oidc_url=f"http://127.0.0.1:{oidc}",
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "dev"],
            cwd=REPO_ROOT,
            env=store_env(data_dir, ports),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield launched, process
        finally:
            stop(process)


def wait_until(
    process: subprocess.Popen[bytes], log_path: Path, ready: Callable[[], bool], what: str
) -> None:
    """Wait (at most START_TIMEOUT) until `ready()`; fail with the log's tail if the supervisor
    exits first or the time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if process.poll() is not None:
            pytest.fail(
                f"`workers.cli dev` exited with code {process.returncode} before {what};"
                f" log {log_path}:\n{tail(log_path)}"
            )
        if time.monotonic() >= deadline:
            pytest.fail(
                f"not {what} within {START_TIMEOUT:.0f} s; log {log_path}:\n{tail(log_path)}"
            )
        time.sleep(0.25)


@contextmanager
def running_store(data_dir: Path) -> Iterator[tuple[Store, subprocess.Popen[bytes]]]:
    """The launched store, yielded once the API and the mailbox answer."""
    with launched_store(data_dir) as (running, process):
        wait_until(
            process,
            running.log_path,
            lambda: (
                answers(f"{running.base_url}/healthz", expect_ok=True)
                and answers(f"{running.mailbox_url}/api/messages", expect_ok=False)
            ),
            "the store answered",
        )
        yield running, process
