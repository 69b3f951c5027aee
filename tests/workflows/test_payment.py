"""PaymentWorkflow on the bank's page, with the real payment activities over the bank adapter's
fake, in the time-skipping environment: callbacks (duplicated, stale) and the bank's silence."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.payment import PaymentActivities
from adapters.bank import PaymentMethod, PaymentStatus
from core.db import SessionFactory
from models.payloads import (
    BankNotice,
    BankSetup,
    LatePaymentInput,
    MailResult,
    PaymentInput,
    PaymentResult,
    Queues,
    ResultMailInput,
    bank_status,
)
from tests.conftest import time_skipping_server
from tests.support.fake_bank import FakeBankGateway
from tests.workflows.helpers import running_workers, unique
from workflows.payment import LateBankPaymentWorkflow, PaymentWorkflow
from workflows.policies import NOTIFICATION, PAYMENT

# Payments on the bank's page touch no table of ours: the activities get no database.
NO_DATABASE = cast(SessionFactory, None)


@dataclass
class Outbox:
    mails: list[ResultMailInput] = field(default_factory=list)

    def activity(self) -> Any:
        @activity.defn(name="notification.send_result_mail")
        async def send(data: ResultMailInput) -> MailResult:
            self.mails.append(data)
            return MailResult(message_id=f"<{data.idempotency_key}>", sent=True)

        return send


def _workers(client: Client, bank: FakeBankGateway, outbox: Outbox) -> Any:
    payment = PaymentActivities(NO_DATABASE, bank)
    return running_workers(
        client,
        [PaymentWorkflow, LateBankPaymentWorkflow],
        {
            PAYMENT: [
                payment.create_bank_payment,
                payment.bank_payment_status,
                payment.refund_bank_payment,
            ],
            NOTIFICATION: [outbox.activity()],
        },
    )


async def _start(
    client: Client, queues: Queues, *, wait: int
) -> WorkflowHandle[Any, PaymentResult]:
    order_id = unique("order-")
    return await client.start_workflow(
        PaymentWorkflow.run,
        PaymentInput(
            purpose="order",
            reference_id=order_id,
            attempt=1,
            username="alice",
            amount_kopecks=1234_00,
            method="BANK_CARD",
            bank=BankSetup(
                return_url="http://shop.test/return",
                callback_url="http://shop.test/payment/bank/callback",
                wait_seconds=wait,
                poll_seconds=20,
            ),
            queues=queues,
        ),
        id=f"payment-order-{order_id}-1",
        task_queue=queues.workflows,
    )


async def _bank_page(handle: WorkflowHandle[Any, PaymentResult]) -> str:
    for _ in range(200):
        url: str = await handle.query(PaymentWorkflow.bank_page_url)
        if url:
            return url
        await asyncio.sleep(0.05)
    raise AssertionError("the payment never showed the bank's page")


async def test_the_callback_settles_the_payment_and_duplicates_or_stale_ones_change_nothing(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    bank, outbox = FakeBankGateway(), Outbox()
    client = time_skipping_env.client
    async with _workers(client, bank, outbox) as queues:
        handle = await _start(client, queues, wait=15 * 60)
        page = await _bank_page(handle)
        (payment_id,) = bank.payments
        assert page.endswith(payment_id)
        stale = BankNotice(payment_id, "PENDING", "evt-old")  # arrives out of order
        await handle.signal(PaymentWorkflow.bank_callback, stale)
        callback, _, _ = bank.settle(payment_id)
        notice = BankNotice(payment_id, bank_status(callback.status), callback.event_id)
        for _ in range(3):  # the bank delivers at least once
            await handle.signal(PaymentWorkflow.bank_callback, notice)
        result = await handle.result()

    assert result.status == "PAID"
    assert result.bank_payment_id == payment_id
    assert bank.calls.count("create_payment") == 1
    assert bank.payments[payment_id].status is PaymentStatus.SUCCEEDED
    assert [mail.success for mail in outbox.mails] == [True], "one result mail"


async def test_a_decline_on_the_bank_page_is_shown_with_the_banks_reason(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    bank, outbox = FakeBankGateway(), Outbox()
    client = time_skipping_env.client
    async with _workers(client, bank, outbox) as queues:
        handle = await _start(client, queues, wait=15 * 60)
        await _bank_page(handle)
        (payment_id,) = bank.payments
        bank.settle(payment_id, decline="Недостаточно средств на карте")
        # No callback at all: the run's own polling finds the answer.
        result = await handle.result()

    assert result.status == "DECLINED"
    assert result.message == "Недостаточно средств на карте"
    assert [(m.success, m.detail) for m in outbox.mails] == [
        (False, "Недостаточно средств на карте")
    ]


async def test_a_silent_bank_fails_the_attempt_and_a_late_success_is_refunded() -> None:
    bank, outbox = FakeBankGateway(), Outbox()
    # A server of its own: after a child that outlived its parent (the watcher, parent-close
    # ABANDON), the test server stops skipping time for every later test of a shared server.
    async with time_skipping_server() as env, _workers(env.client, bank, outbox) as queues:
        client = env.client
        handle = await _start(client, queues, wait=120)
        result = await handle.result()  # time skips past the wait: the buyer never paid
        assert result.status == "DECLINED"
        assert "не подтвердил оплату" in result.message
        (payment_id,) = bank.payments

        # The buyer finally pays on the bank's page; the callback reaches the watcher.
        callback, _, _ = bank.settle(payment_id)
        late = client.get_workflow_handle(f"bank-late-{payment_id}", result_type=str)
        await late.signal(
            LateBankPaymentWorkflow.bank_callback,
            BankNotice(payment_id, bank_status(callback.status), callback.event_id),
        )
        assert await late.result() == "REFUNDED"

    paid = bank.payments[payment_id]
    assert paid.status is PaymentStatus.REFUNDED
    assert paid.refunded_kopecks == 1234_00
    assert bank.calls.count("refund") == 1
    assert [m.kind for m in outbox.mails] == ["PAYMENT", "REFUND"]
    assert outbox.mails[1].amount_kopecks == 1234_00


async def test_the_late_payment_watcher_asks_the_bank_less_and_less_for_a_day() -> None:
    """A payment the bank never settles: the watcher backs off (60 s, doubling to an hour), so a
    day costs about thirty questions and a few hundred history events, not 1 440 polls."""
    bank, outbox = FakeBankGateway(), Outbox()
    async with time_skipping_server() as env, _workers(env.client, bank, outbox) as queues:
        created = await bank.create_payment(
            amount_kopecks=500_00,
            idempotency_key=unique("late-"),
            description="test",
            return_url="http://shop.test/return",
            callback_url="http://shop.test/callback",
            method=PaymentMethod.SBP,
        )
        bank.calls.clear()
        handle = await env.client.start_workflow(
            LateBankPaymentWorkflow.run,
            LatePaymentInput(
                username="alice",
                payment_id=created.payment_id,
                method="SBP",
                reference="order-1",
                poll_seconds=60,
                queues=queues,
            ),
            id=f"bank-late-{created.payment_id}",
            task_queue=queues.workflows,
        )
        assert await handle.result() == "UNSETTLED"
        history = await handle.fetch_history()
    asked = bank.calls.count("get_payment")
    assert 20 <= asked <= 40, f"{asked} questions in a day"
    assert len(history.events) < 400, f"{len(history.events)} events"
