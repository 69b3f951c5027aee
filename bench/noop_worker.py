"""The Temporal-only rows of `bench.checkout`, served by a process of their own.

    python -m bench.noop_worker ADDRESS BARE_QUEUE NOOP_PREFIX

- `bench.bare_chain.BareChain` and its no-op activity on BARE_QUEUE (the SDK's defaults).
- The REAL workflows (`workers.bootstrap.WORKFLOWS`, built by `build_workers` exactly as the real
  worker builds them, default one-queue layout `Queues(NOOP_PREFIX)`) with stand-in activities
  registered under the real activity names (samples-python's idiom for mocking activities):
  each answers at once with a valid payload, so the checkout runs its real path — local
  activities, the inline wallet payment, the mails in the background — without a database.

The stand-ins' names are checked against the real activity classes when the process starts:
a renamed or removed activity stops the benchmark instead of silently testing something else.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Iterable
from contextlib import AsyncExitStack
from typing import Any, cast

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities.billing import BillingActivities
from activities.delivery import DeliveryActivities
from activities.notification import NotificationActivities
from activities.order import OrderActivities
from activities.store import StoreActivities
from bench.bare_chain import BareChain, noop
from models.payloads import (
    BeginCheckoutInput,
    Changed,
    DeliveryChoice,
    DeliveryRequest,
    EntityRef,
    FinishCheckoutInput,
    HoldInput,
    MailResult,
    MoneyMoved,
    OpenCaseInput,
    OrderLine,
    OrderRef,
    OrderSnapshot,
    Queues,
    ResultMailInput,
    Units,
    WalletMoveInput,
)
from workers.bootstrap import Dependencies, build_workers
from workflows.policies import BILLING, DELIVERY, NOTIFICATION, ORDER, STORE

PRICE_KOPECKS = 100_00
log = logging.getLogger("bench.noop_worker")


# --- stand-ins: the real names, types in and out; nothing done ------------------------------


@activity.defn(name="order.begin_checkout")
async def begin_checkout(data: BeginCheckoutInput) -> OrderSnapshot:
    return OrderSnapshot(data.order_id, data.username, [OrderLine(1, 1)], PRICE_KOPECKS)


@activity.defn(name="order.finish_checkout")
async def finish_checkout(data: FinishCheckoutInput) -> OrderRef:
    return OrderRef(data.order_id)


@activity.defn(name="store.hold_stock")
async def hold_stock(data: HoldInput) -> Units:
    return Units(sum(line.quantity for line in data.lines))


@activity.defn(name="store.release_stock")
async def release_stock(data: OrderRef) -> Units:
    return Units(0)


@activity.defn(name="store.confirm_stock")
async def confirm_stock(data: OrderRef) -> EntityRef:
    return EntityRef(1)


@activity.defn(name="delivery.quote")
async def quote(data: DeliveryRequest) -> DeliveryChoice:
    return DeliveryChoice(
        kind=data.kind,
        company_name="ПВЗ",
        address="Москва, Тверская, 1",
        pickup_point_id=data.pickup_point_id,
        cost_kopecks=0,
        estimated_date="2030-01-01",
        summary="Самовывоз: ПВЗ, Москва, Тверская, 1, с 01.01.2030",
    )


@activity.defn(name="delivery.open_case")
async def open_case(data: OpenCaseInput) -> EntityRef:
    return EntityRef(1)


@activity.defn(name="delivery.cancel_case")
async def cancel_case(data: OrderRef) -> Changed:
    return Changed(True)


@activity.defn(name="billing.debit_wallet")
async def debit_wallet(data: WalletMoveInput) -> MoneyMoved:
    return MoneyMoved(transaction_id=1, balance_after_kopecks=0)


@activity.defn(name="billing.refund_wallet")
async def refund_wallet(data: WalletMoveInput) -> MoneyMoved:
    return MoneyMoved(transaction_id=2, balance_after_kopecks=data.amount_kopecks)


@activity.defn(name="notification.send_result_mail")
async def send_result_mail(data: ResultMailInput) -> MailResult:
    return MailResult(message_id=f"<{data.idempotency_key}@bench>", sent=True)


# By domain, as `workers.bootstrap.activities_by_domain` has them: the wallet checkout's happy
# path and its compensations.
STAND_INS: dict[str, list[Any]] = {
    ORDER: [begin_checkout, finish_checkout],
    STORE: [hold_stock, release_stock, confirm_stock],
    DELIVERY: [quote, open_case, cancel_case],
    BILLING: [debit_wallet, refund_wallet],
    NOTIFICATION: [send_result_mail],
}
REAL_CLASSES: dict[str, type] = {
    ORDER: OrderActivities,
    STORE: StoreActivities,
    DELIVERY: DeliveryActivities,
    BILLING: BillingActivities,
    NOTIFICATION: NotificationActivities,
}


def _names(functions: Iterable[Any]) -> set[str]:
    found = set()
    for function in functions:
        definition = activity._Definition.from_callable(function)
        if definition is not None and definition.name:
            found.add(definition.name)
    return found


def check_stand_ins() -> None:
    """Every stand-in's name is a real activity of its domain."""
    for domain, functions in STAND_INS.items():
        real = _names(vars(REAL_CLASSES[domain]).values())
        unknown = _names(functions) - real
        if unknown:
            raise SystemExit(f"stand-ins without a real {domain} activity: {sorted(unknown)}")


# `build_workers` reads its Dependencies only to build the real activities, which `activities=`
# replaces here: the no-op worker has no database, mailer or gateways.
NO_DEPENDENCIES = cast(Dependencies, None)


def workers(client: Client, bare_queue: str, noop_prefix: str) -> list[Worker]:
    bare = Worker(client, task_queue=bare_queue, workflows=[BareChain], activities=[noop])
    real = build_workers(client, NO_DEPENDENCIES, Queues(noop_prefix), activities=STAND_INS)
    return [bare, *real]


async def serve(address: str, bare_queue: str, noop_prefix: str) -> None:
    """Until SIGINT or SIGTERM."""
    check_stand_ins()
    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        for worker in workers(client, bare_queue, noop_prefix):
            await stack.enter_async_context(worker)
        log.info("serving %s and %s", bare_queue, noop_prefix)
        await stop.wait()


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    address, bare_queue, noop_prefix = argv
    asyncio.run(serve(address, bare_queue, noop_prefix))
    # As workers/cli.py ends the real worker: no interpreter teardown while the SDK's threads may
    # still hold Python state (sdk-python#300).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
