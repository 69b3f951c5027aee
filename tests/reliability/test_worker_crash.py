"""A worker killed right after the bank took the money, then started again: the retried activity
reaches the same bank payment (its idempotency key is the attempt's), so the card is charged once.

The shop runs in the split queue layout; its payment queue is served by a real `shopflow worker`
process, everything else runs in-process as in the API tests. The bank emulator answers the
charge five seconds after making it, and the worker is killed (SIGKILL, by its PID) inside that
window.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory
from models.payloads import Queues
from tests.conftest import BankEmulator, stop_process, unique_queues
from tests.support.auth import login_shopper
from tests.support.cards import charges, remembered_card
from tests.support.checkout import to_payment
from tests.support.shop import open_shop
from workflows.policies import PAYMENT

CHARGE_ANSWER_DELAY_MS = 5_000


@contextmanager
def worker_process(
    database_url: str, env: WorkflowEnvironment, bank: BankEmulator, queues: Queues, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m workers.cli worker --queue <prefix>-payment` against the test's services."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SHOP_")}
    environment.update(
        SHOP_ENVIRONMENT="test",
        SHOP_DATABASE_URL=database_url,
        SHOP_TEMPORAL_ADDRESS=env.client.service_client.config.target_host,
        SHOP_BANK_URL=bank.url,
        SHOP_PUBLIC_URL="http://shop.test",
        SHOP_TASK_QUEUE_PREFIX=queues.prefix,
        SHOP_SPLIT_TASK_QUEUES="true",
    )
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker", "--queue", queues.activities(PAYMENT)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        stop_process(process, grace=20)


async def test_a_worker_killed_after_the_bank_charged_charges_once(
    seeded_sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    database_url = seeded_sessions.kw["bind"].url.render_as_string(hide_password=False)
    queues = unique_queues(split=True)
    async with open_shop(
        seeded_sessions,
        dev_server_env,
        couriers_url,
        bank_emulator,
        queues=queues,
        serve=lambda queue: queue != queues.activities(PAYMENT),
        update_wait_seconds=120,  # the retried charge waits out a 30 s start-to-close timeout
    ) as shop:
        with worker_process(database_url, dev_server_env, bank_emulator, queues, log) as first:
            await login_shopper(shop)  # registration needs the payment queue too
            me = (await shop.http.get("/auth/auth")).json()["username"]
            saved_id = await remembered_card(shop.sessions, bank_emulator, me)
            oid, total = await to_payment(shop)
            bank_emulator.admin("POST", "latency", {"chargeMs": CHARGE_ANSWER_DELAY_MS})
            try:
                paying = asyncio.create_task(
                    shop.http.post(
                        f"/checkout/{oid}/pay",
                        json={"method": "BANK_CARD", "tokenId": saved_id},
                        timeout=120,
                    )
                )
                await charged(bank_emulator, me)
                os.kill(first.pid, signal.SIGKILL)  # the bank has charged; no answer was heard
                first.wait()
            finally:
                bank_emulator.admin("POST", "latency", {"chargeMs": 0})

        with worker_process(database_url, dev_server_env, bank_emulator, queues, log):
            # The activity is retried once its 30 s start-to-close timeout runs out.
            answer = await asyncio.wait_for(paying, 120)

        assert answer.status_code == 200, answer.text
        assert answer.json()["step"] == "PAID", answer.json()
        made = await charges(bank_emulator, me)
        assert len(made) == 1, f"one charge at the bank, not {len(made)}"
        assert made[0]["status"] == "SUCCEEDED"
        assert made[0]["amountKopecks"] == round(total * 100)
        run = shop.env.client.get_workflow_handle(f"checkout-{oid}")  # a card charged at once
        history = await run.fetch_history()
        attempts = [
            event.activity_task_started_event_attributes.attempt
            for event in history.events
            if event.HasField("activity_task_started_event_attributes")
        ]
        assert max(attempts) >= 2, "the charge really was retried after the crash"


async def charged(bank: BankEmulator, username: str) -> None:
    """Until the bank has made the shopper's charge."""
    for _ in range(1200):
        if await charges(bank, username):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bank was never asked to charge")
