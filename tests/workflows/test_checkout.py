"""CheckoutWorkflow timers and early failures in the time-skipping environment, with stand-in
activities (Updates need the dev server: see tests/api/test_checkout_*.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from models.payloads import (
    BeginCheckoutInput,
    CheckoutInput,
    CheckoutState,
    FinishCheckoutInput,
    HoldInput,
    OrderLine,
    OrderRef,
    OrderSnapshot,
    Queues,
    Units,
)
from tests.workflows.helpers import running_workers, unique
from workflows.checkout import CheckoutWorkflow
from workflows.payment import PaymentWorkflow
from workflows.policies import ORDER, STORE


@dataclass
class FakeShop:
    calls: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if name in self.refuse:
            raise ApplicationError(f"{name}: отказ", type=self.refuse[name], non_retryable=True)

    def by_queue(self) -> dict[str, Sequence[Callable[..., Any]]]:
        @activity.defn(name="order.begin_checkout")
        async def begin(data: BeginCheckoutInput) -> OrderSnapshot:
            self._enter("order.begin_checkout")
            return OrderSnapshot(data.order_id, data.username, [OrderLine(1, 2)], 500_000)

        @activity.defn(name="order.finish_checkout")
        async def finish(data: FinishCheckoutInput) -> OrderRef:
            self._enter("order.finish_checkout")
            self.finished.append(data.status)
            return OrderRef(data.order_id)

        @activity.defn(name="store.hold_stock")
        async def hold(data: HoldInput) -> Units:
            self._enter("store.hold_stock")
            return Units(sum(line.quantity for line in data.lines))

        @activity.defn(name="store.release_stock")
        async def release(data: OrderRef) -> Units:
            self._enter("store.release_stock")
            return Units(2)

        return {ORDER: [begin, finish], STORE: [hold, release]}


async def _run(client: Client, queues: Queues, idle: int = 1800) -> tuple[str, Any]:
    order_id = unique("order-")
    handle = await client.start_workflow(
        CheckoutWorkflow.run,
        CheckoutInput(
            order_id=order_id,
            username="alice",
            version=0,
            idle_timeout_seconds=idle,
            queues=queues,
        ),
        id=f"checkout-{order_id}",
        task_queue=queues.workflows,
    )
    return order_id, handle


async def test_an_idle_checkout_expires_releases_the_stock_and_reopens_the_cart(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    shop = FakeShop()
    client = time_skipping_env.client
    async with running_workers(
        client, [CheckoutWorkflow, PaymentWorkflow], shop.by_queue()
    ) as queues:
        _, handle = await _run(client, queues, idle=30 * 60)
        await time_skipping_env.sleep(timedelta(minutes=29))
        waiting: CheckoutState = await handle.query(CheckoutWorkflow.state)
        assert waiting.step == "CHOOSING_DELIVERY"
        assert "store.release_stock" not in shop.calls
        result = await handle.result()
    assert result.step == "EXPIRED"
    assert result.failure_reason == "Время оформления истекло"
    assert shop.calls == [
        "order.begin_checkout",
        "store.hold_stock",
        "store.release_stock",
        "order.finish_checkout",
    ]
    assert shop.finished == ["NEW"]


async def test_no_stock_gives_the_order_back_to_the_cart(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    shop = FakeShop(refuse={"store.hold_stock": "OutOfStockError"})
    client = time_skipping_env.client
    async with running_workers(
        client, [CheckoutWorkflow, PaymentWorkflow], shop.by_queue()
    ) as queues:
        _, handle = await _run(client, queues)
        result = await handle.result()
    assert result.step == "FAILED"
    assert "store.hold_stock" in result.failure_reason
    assert shop.finished == ["NEW"]
    assert "store.release_stock" in shop.calls, "an idempotent release covers a half-done hold"


async def test_a_stale_order_never_reaches_the_stock(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    shop = FakeShop(refuse={"order.begin_checkout": "StaleVersionError"})
    client = time_skipping_env.client
    async with running_workers(
        client, [CheckoutWorkflow, PaymentWorkflow], shop.by_queue()
    ) as queues:
        _, handle = await _run(client, queues)
        result = await handle.result()
    assert result.step == "FAILED"
    assert shop.calls == ["order.begin_checkout"]
