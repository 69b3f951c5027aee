"""FulfilmentWorkflow's timers and cancellations in the time-skipping environment, with stand-in
activities: days at the pickup point pass in milliseconds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from models.payloads import (
    Changed,
    DeliveryChoice,
    MailResult,
    MoneyMoved,
    OrderRef,
    PaymentResult,
    Queues,
    Units,
    WalletMoveInput,
)
from models.payloads_fulfilment import (
    CancelRequest,
    CloseOrderInput,
    DeliveryNoticeInput,
    FulfilmentInput,
    FulfilmentState,
    StageRequest,
)
from tests.workflows.helpers import running_workers, unique
from workflows import refs
from workflows.fulfilment import FulfilmentWorkflow
from workflows.policies import BILLING, DELIVERY, NOTIFICATION, ORDER, STORE
from workflows.refs import UpdateRef

In = TypeVar("In")
PICKUP = DeliveryChoice("PICKUP", "", "Москва, ул. Арбат, 10", 1, 0, "2026-12-03", "Пункт выдачи")
COURIER = DeliveryChoice(
    "COURIER", "Быстрые", "Москва, ул. Ленина, 1", None, 300_00, "2026-12-03", ""
)
PAID = PaymentResult(status="PAID", method="WALLET", amount_kopecks=2_000_00)
RETURNED_AND_REFUNDED = [
    "store.release_stock",
    "delivery.cancel_case",
    "billing.refund_wallet 200000",
]


@dataclass
class FakeStore:
    """What the run asked of the store: notices (by key), stock returns, refunds, the order."""

    notices: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    def by_domain(self) -> dict[str, Sequence[Callable[..., Any]]]:
        @activity.defn(name="notification.send_delivery_notice")
        async def notice(data: DeliveryNoticeInput) -> MailResult:
            self.notices.append(data.idempotency_key)
            return MailResult(message_id=data.idempotency_key, sent=True)

        @activity.defn(name="store.release_stock")
        async def release(data: OrderRef) -> Units:
            self.calls.append("store.release_stock")
            return Units(1)

        @activity.defn(name="delivery.cancel_case")
        async def cancel_case(data: OrderRef) -> Changed:
            self.calls.append("delivery.cancel_case")
            return Changed(True)

        @activity.defn(name="billing.refund_wallet")
        async def refund(data: WalletMoveInput) -> MoneyMoved:
            self.calls.append(f"billing.refund_wallet {data.amount_kopecks}")
            return MoneyMoved(1, data.amount_kopecks)

        @activity.defn(name="order.close_order")
        async def close(data: CloseOrderInput) -> OrderRef:
            self.closed.append(data.status)
            return OrderRef(data.order_id)

        return {
            NOTIFICATION: [notice],
            STORE: [release],
            DELIVERY: [cancel_case],
            BILLING: [refund],
            ORDER: [close],
        }


async def start(
    client: Client, queues: Queues, delivery: DeliveryChoice
) -> WorkflowHandle[Any, FulfilmentState]:
    order_id = unique("o-")
    data = FulfilmentInput(order_id, "alice", delivery, PAID, queues=queues)
    return await client.start_workflow(
        FulfilmentWorkflow.run, data, id=f"delivery-{order_id}", task_queue=queues.workflows
    )


async def update(
    handle: WorkflowHandle[Any, FulfilmentState], ref: UpdateRef[In, FulfilmentState], arg: In
) -> FulfilmentState:
    state: FulfilmentState = await handle.execute_update(ref.name, arg, result_type=ref.result)
    return state


async def move(handle: WorkflowHandle[Any, FulfilmentState], stage: str, slot: str = "") -> None:
    request = StageRequest(stage, "operator-olga", slot)  # type: ignore[arg-type]
    await update(handle, refs.Fulfilment.advance, request)


async def test_waiting_at_the_pickup_point_reminds_then_returns_and_refunds(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    shop = FakeStore()
    client = time_skipping_env.client
    async with running_workers(client, [FulfilmentWorkflow], shop.by_domain()) as queues:
        handle = await start(client, queues, PICKUP)
        await move(handle, "SENT_TO_PICKUP_POINT")
        await move(handle, "AT_PICKUP_POINT")
        state = await handle.result()  # 7 days pass
    assert state.stage == "RETURNED"
    assert state.refunded
    assert [e.stage for e in state.timeline] == [
        "PICKING", "SENT_TO_PICKUP_POINT", "AT_PICKUP_POINT", "RETURNED"
    ]  # fmt: skip
    expected = [
        f"{handle.id}-{notice}"
        for notice in (
            "PICKING", "SENT_TO_PICKUP_POINT", "AT_PICKUP_POINT", "AT_PICKUP_POINT-reminder",
            "RETURNED",
        )
    ]  # fmt: skip
    # The first notice may still be on its way when the operator's move sends the next one.
    assert sorted(shop.notices) == sorted(expected)
    assert shop.notices[-2:] == expected[-2:], "the reminder, then the return"
    assert shop.calls == RETURNED_AND_REFUNDED
    assert shop.closed == ["CANCELED"]


async def test_picked_up_within_the_days_completes_the_order_without_a_refund(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    shop = FakeStore()
    client = time_skipping_env.client
    async with running_workers(client, [FulfilmentWorkflow], shop.by_domain()) as queues:
        handle = await start(client, queues, PICKUP)
        await move(handle, "SENT_TO_PICKUP_POINT")
        await move(handle, "AT_PICKUP_POINT")
        await time_skipping_env.sleep(4 * 24 * 3600)  # past the reminder, within the window
        await move(handle, "PICKED_UP")
        state = await handle.result()
    assert (state.stage, state.refunded) == ("PICKED_UP", False)
    assert shop.notices[-2:] == [f"{handle.id}-AT_PICKUP_POINT-reminder", f"{handle.id}-PICKED_UP"]
    assert (shop.calls, shop.closed) == ([], ["COMPLETED"])


@pytest.mark.parametrize(
    ("delivery", "before", "by"),
    [
        (PICKUP, [], "shopper"),
        (COURIER, [], "shopper"),
        (PICKUP, ["SENT_TO_PICKUP_POINT"], "operator-olga"),
        (COURIER, ["HANDED_TO_COURIER"], "operator-olga"),
    ],
    ids=["shopper-picking-pickup", "shopper-picking-courier", "operator-sent", "operator-handed"],
)
async def test_cancel_and_refund_at_each_stage_it_is_allowed(
    time_skipping_env: WorkflowEnvironment,
    delivery: DeliveryChoice,
    before: list[str],
    by: str,
) -> None:
    shop = FakeStore()
    client = time_skipping_env.client
    async with running_workers(client, [FulfilmentWorkflow], shop.by_domain()) as queues:
        handle = await start(client, queues, delivery)
        for stage in before:
            await move(handle, stage)
        answer = await update(handle, refs.Fulfilment.cancel, CancelRequest(by, "передумал"))
        state = await handle.result()
    assert answer.stage == state.stage == "CANCELED"
    assert state.timeline[-1].by == by
    assert shop.calls == RETURNED_AND_REFUNDED
    assert shop.closed == ["CANCELED"]


@pytest.mark.parametrize(
    ("delivery", "before", "by"),
    [
        (PICKUP, ["SENT_TO_PICKUP_POINT"], "shopper"),
        (PICKUP, ["SENT_TO_PICKUP_POINT", "AT_PICKUP_POINT"], "operator-olga"),
        (COURIER, ["HANDED_TO_COURIER", "OUT_FOR_DELIVERY"], "operator-olga"),
    ],
    ids=["shopper-after-hand-over", "operator-at-point", "operator-out-for-delivery"],
)
async def test_too_late_to_cancel_is_refused_and_moves_nothing(
    time_skipping_env: WorkflowEnvironment,
    delivery: DeliveryChoice,
    before: list[str],
    by: str,
) -> None:
    shop = FakeStore()
    client = time_skipping_env.client
    async with running_workers(client, [FulfilmentWorkflow], shop.by_domain()) as queues:
        handle = await start(client, queues, delivery)
        for stage in before:
            await move(handle, stage, slot="10:00–12:00")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await update(handle, refs.Fulfilment.cancel, CancelRequest(by))
        assert "отменить" in str(refused.value.cause)
        state = await handle.query(FulfilmentWorkflow.state)
        await handle.terminate("test over")
    assert state.stage == before[-1]
    assert shop.calls == []


async def test_stages_come_only_in_their_order(time_skipping_env: WorkflowEnvironment) -> None:
    shop = FakeStore()
    client = time_skipping_env.client
    async with running_workers(client, [FulfilmentWorkflow], shop.by_domain()) as queues:
        handle = await start(client, queues, COURIER)
        with pytest.raises(WorkflowUpdateFailedError):
            await move(handle, "DELIVERED")
        await move(handle, "HANDED_TO_COURIER")
        with pytest.raises(WorkflowUpdateFailedError):
            await move(handle, "OUT_FOR_DELIVERY")  # no slot
        await move(handle, "OUT_FOR_DELIVERY", slot="10:00–12:00")
        await move(handle, "DELIVERED")
        state = await handle.result()
    assert state.slot == "10:00–12:00"
    assert [e.stage for e in state.timeline] == [
        "PICKING", "HANDED_TO_COURIER", "OUT_FOR_DELIVERY", "DELIVERED"
    ]  # fmt: skip
    assert shop.closed == ["COMPLETED"]
