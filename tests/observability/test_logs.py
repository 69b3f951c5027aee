"""JSON log lines an operator's collector can search: a workflow's line carries its workflow id,
run id and the order it is about."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from core.telemetry import log_handler
from tests.observability.conftest import Observed
from tests.support.checkout import fund, pick_up, post, start
from tests.support.orders import in_stock


@contextmanager
def json_lines(logger: str) -> Iterator[list[dict[str, Any]]]:
    """The lines `logger` writes within the block, as the JSON handler writes them."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    target = logging.getLogger(logger)
    level = target.level
    target.addHandler(handler)
    target.setLevel(logging.INFO)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        target.removeHandler(handler)
        target.setLevel(level)
        lines += [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_checkout_logs_its_workflow_run_and_order(observed: Observed) -> None:
    shop = observed.shop
    (product,) = await in_stock(shop.http, count=1)
    await fund(shop, 100_000)
    with json_lines("temporalio.workflow") as lines:
        oid = (await start(shop, product["id"]))["id"]
        assert (await pick_up(shop, oid)).status_code == 200
        await post(shop.http, f"/checkout/{oid}/pay", {"method": "WALLET"})
        handle = shop.env.client.get_workflow_handle(f"checkout-{oid}")
        await handle.result()
    run_id = (await handle.describe()).run_id

    ended = [line for line in lines if line["message"].startswith("checkout ended: PAID")]
    assert len(ended) == 1, lines
    (line,) = ended
    assert line["workflow_id"] == f"checkout-{oid}"
    assert line["run_id"] == run_id
    assert line["order_id"] == oid
    assert line["level"] == "INFO"
    assert "temporal_workflow" not in line, "lifted to fields of their own"


def test_an_activity_line_names_its_run_and_activity() -> None:
    stream = io.StringIO()
    handler = log_handler("json", stream)
    record = logging.LogRecord(
        "temporalio.activity", logging.WARNING, __file__, 1, "slow", (), None
    )
    record.temporal_activity = {
        "activity_type": "billing.debit_wallet",
        "workflow_id": "checkout-42",
        "workflow_run_id": "run-7",
    }
    handler.handle(record)
    line = json.loads(stream.getvalue())
    assert (line["workflow_id"], line["run_id"], line["activity"]) == (
        "checkout-42",
        "run-7",
        "billing.debit_wallet",
    )
    assert line["order_id"] == "42", "a checkout's run names its order"


@pytest.mark.parametrize(
    ("workflow_id", "order_id"),
    [
        ("checkout-6f1c-9a", "6f1c-9a"),
        ("delivery-6f1c-9a", "6f1c-9a"),
        ("payment-order-6f1c-9a-v3-2", "6f1c-9a"),
        ("registration-alice", None),
        ("giftcard-6f1c", None),
    ],
)
def test_the_order_of_a_run_is_named_on_its_lines(workflow_id: str, order_id: str | None) -> None:
    stream = io.StringIO()
    record = logging.makeLogRecord({"name": "temporalio.workflow", "msg": "step"})
    record.temporal_workflow = {"workflow_id": workflow_id, "run_id": "r"}
    log_handler("json", stream).handle(record)
    assert json.loads(stream.getvalue()).get("order_id") == order_id


def test_text_lines_stay_text() -> None:
    stream = io.StringIO()
    handler = log_handler("text", stream)
    handler.handle(logging.LogRecord("shopflow", logging.INFO, __file__, 1, "hello", (), None))
    assert stream.getvalue().rstrip().endswith("shopflow INFO hello")
