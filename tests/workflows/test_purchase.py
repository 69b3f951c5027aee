"""Purchases' timers in the time-skipping environment: a gift card or a top-up nobody pays for
ends EXPIRED after the idle time, having moved no money and issued nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from models.payloads_purchase import GiftCardOrder, PurchaseInput, PurchaseKind
from tests.workflows.helpers import running_workers, unique
from workflows.purchase import GiftCardWorkflow, WalletTopUpWorkflow

IDLE = timedelta(minutes=30)


@pytest.mark.parametrize("kind", ["giftcard", "topup"])
async def test_an_unpaid_purchase_expires_after_the_idle_time(
    time_skipping_env: WorkflowEnvironment, kind: PurchaseKind
) -> None:
    client = time_skipping_env.client
    workflow = GiftCardWorkflow if kind == "giftcard" else WalletTopUpWorkflow
    # No activities at all: an expiry must not reach billing, the bank or the mail.
    async with running_workers(client, [workflow], {}) as queues:
        purchase_id = unique(f"{kind}-")
        data = PurchaseInput(
            purchase_id=purchase_id,
            kind=kind,
            username="alice",
            amount_kopecks=500_00,
            gift=GiftCardOrder("Мария", "maria@example.ru", "thanks")
            if kind == "giftcard"
            else None,
            idle_timeout_seconds=int(IDLE.total_seconds()),
            queues=queues,
        )
        handle = await client.start_workflow(
            workflow.run, data, id=purchase_id, task_queue=queues.workflows
        )
        state = await handle.result()
    assert state.step == "EXPIRED"
    assert state.failure_reason == "Время оплаты истекло"
    assert (state.payment_attempts, state.gift_card_id, state.balance_after_kopecks) == (
        0,
        None,
        None,
    )
