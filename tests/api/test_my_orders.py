"""«Мои заказы» through the API on the real dev server: a paid order listed with its live stage and
timeline, cancel-and-refund while it is picked (409 once it has left the store), someone else's
order 404, the pages; and the in-app notices as Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from core.db import transaction
from models.notification import ChannelKind, Notification
from models.payloads_fulfilment import FulfilmentState, StageRequest
from tests.support.billing import back_as, shopper
from tests.support.checkout import balance, fund, pay, to_payment
from tests.support.errors import assert_error
from tests.support.shop import Shop
from workflows.refs import Fulfilment

WITHIN = 20.0


async def paid_order(shop: Shop) -> tuple[str, float]:
    """A fresh order paid from the wallet (funded first), once its fulfilment is PICKING."""
    await fund(shop, 100_000)
    oid, total = await to_payment(shop)
    assert (await pay(shop, oid, method="WALLET"))["step"] == "PAID"
    await listed(shop, oid, "PICKING")
    return oid, total


async def listed(shop: Shop, oid: str, stage: str) -> dict[str, Any]:
    """The order's line in GET /order/list once it shows `stage` (the fulfilment starts after
    the checkout reports PAID)."""
    async with asyncio.timeout(WITHIN):
        while True:
            response = await shop.http.get("/order/list")
            assert response.status_code == 200, response.text
            lines: dict[str, dict[str, Any]] = {x["order"]["id"]: x for x in response.json()}
            if lines.get(oid, {}).get("stage") == stage:
                return lines[oid]
            await asyncio.sleep(0.2)


async def test_a_paid_order_is_listed_picking_with_its_timeline(seeded: Shop) -> None:
    oid, _ = await paid_order(seeded)

    line = await listed(seeded, oid, "PICKING")
    assert line["order"]["status"] == "PAID"
    assert line["stageLabel"] == "Комплектуется"
    assert line["order"]["orderItems"], "the composition comes along"
    response = await seeded.http.get("/order/timeline", params={"orderId": oid})
    assert response.status_code == 200, response.text
    timeline = response.json()
    assert timeline["orderId"] == oid
    assert timeline["stage"] == "PICKING"
    assert timeline["shopperMayCancel"] is True
    assert [event["stage"] for event in timeline["timeline"]] == ["PICKING"]
    assert timeline["timeline"][0]["at"]

    page = await seeded.http.get(f"/orders/{oid}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Отменить заказ" in page.text
    assert 'id="timeline"' in page.text
    assert f'href="/orders/{oid}"' in (await seeded.http.get("/orders")).text


async def test_cancel_while_picking_refunds_then_it_is_too_late(seeded: Shop) -> None:
    oid, total = await paid_order(seeded)
    before = await balance(seeded)

    response = await seeded.http.post("/order/cancel-paid", json={"id": oid})

    assert response.status_code == 200, response.text
    state = response.json()
    assert state["stage"] == "CANCELED"
    assert state["refunded"] is True
    assert [event["stage"] for event in state["timeline"]] == ["PICKING", "CANCELED"]
    assert await balance(seeded) == round(before + total, 2)
    order = (await seeded.http.get("/order/get", params={"orderId": oid})).json()
    assert order["status"] == "CANCELED"
    assert_error(await seeded.http.post("/order/cancel-paid", json={"id": oid}), 409)
    page = await seeded.http.get(f"/orders/{oid}")
    assert 'id="refunded"' in page.text
    assert "Отменить заказ" not in page.text


async def test_once_sent_the_shopper_may_not_cancel(seeded: Shop) -> None:
    oid, _ = await paid_order(seeded)
    handle = seeded.env.client.get_workflow_handle(f"delivery-{oid}")
    await handle.execute_update(
        Fulfilment.advance.name,
        StageRequest("SENT_TO_PICKUP_POINT", "operator"),
        result_type=FulfilmentState,
    )

    assert_error(await seeded.http.post("/order/cancel-paid", json={"id": oid}), 409)
    await listed(seeded, oid, "SENT_TO_PICKUP_POINT")
    page = await seeded.http.post(f"/orders/{oid}", headers={"Accept": "text/html"})
    assert page.status_code == 409
    assert 'id="cancel-error"' in page.text


async def test_someone_elses_order_is_not_found(seeded: Shop) -> None:
    oid, _ = await paid_order(seeded)
    owner = (await seeded.http.get("/auth/auth")).json()["username"]
    await shopper(seeded)

    assert_error(await seeded.http.get("/order/timeline", params={"orderId": oid}), 404)
    assert_error(await seeded.http.post("/order/cancel-paid", json={"id": oid}), 404)
    others = (await seeded.http.get("/order/list")).json()
    assert oid not in {line["order"]["id"] for line in others}
    assert (await seeded.http.get(f"/orders/{oid}")).status_code == 404
    await back_as(seeded, owner)
    assert (await seeded.http.get("/order/timeline", params={"orderId": oid})).status_code == 200


async def test_an_unpaid_order_has_no_timeline_and_the_list_needs_a_login(seeded: Shop) -> None:
    await fund(seeded, 100_000)
    oid, _ = await to_payment(seeded)
    lines = (await seeded.http.get("/order/list")).json()
    line = next(x for x in lines if x["order"]["id"] == oid)
    assert line["order"]["status"] == "IN_PROGRESS"
    assert line["stage"] is None
    assert_error(await seeded.http.get("/order/timeline", params={"orderId": oid}), 404)
    assert_error(await seeded.http.post("/order/cancel-paid", json={"id": oid}), 404)
    assert_error(await seeded.http.post("/order/cancel-paid", json={"id": "bad id!"}), 400)
    await seeded.http.post("/logout")
    assert_error(await seeded.http.get("/order/list"), 401)
    assert_error(await seeded.http.get("/notifications/stream"), 401)


# --- in-app notices ------------------------------------------------------------------------------


def _cookies(shop: Shop) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in shop.http.cookies.items())}


async def read_events(
    shop: Shop, count: int, headers: dict[str, str] | None = None, within: float = WITHIN
) -> list[dict[str, Any]]:
    """The first `count` notice events of the stream (over a real socket: the ASGI transport
    would buffer the endless body), each as {id, data}; the stream is then left."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async with (
        asyncio.timeout(within),
        httpx.AsyncClient(base_url=shop.public_url) as client,
        client.stream(
            "GET", "/notifications/stream", headers={**_cookies(shop), **(headers or {})}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                current["id"] = int(line.removeprefix("id: "))
            elif line.startswith("data: "):
                current["data"] = json.loads(line.removeprefix("data: "))
            elif line == "" and "data" in current:
                events.append(current)
                current = {}
                if len(events) == count:
                    return events
    raise AssertionError(f"the stream ended after {events}")


async def add_notice(shop: Shop, subject: str) -> int:
    """A PUSH row of the logged-in shopper, as the notification service records one."""
    me = (await shop.http.get("/auth/auth")).json()["username"]
    async with transaction(shop.sessions) as session:
        row = Notification(
            idempotency_key=f"test-{me}-{subject}",
            username=me,
            kind=ChannelKind.PUSH,
            address=me,
            subject=subject,
            body=f"{subject}: текст",
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def test_the_stream_yields_the_picking_notice(seeded: Shop) -> None:
    oid, _ = await paid_order(seeded)

    events = await read_events(seeded, 1)

    (event,) = events
    assert event["data"]["id"] == event["id"]
    assert event["data"]["subject"].startswith(f"Заказ {oid[:8]}")
    assert "комплектацию" in event["data"]["subject"]
    assert set(event["data"]) == {"id", "subject", "body", "at"}
    listed_notices = (await seeded.http.get("/notification/list")).json()
    assert listed_notices[0]["id"] == event["id"]
    page = await seeded.http.get("/notifications")
    assert f'data-notice-id="{event["id"]}"' in page.text


async def test_the_stream_resumes_after_last_event_id(seeded: Shop) -> None:
    first = await add_notice(seeded, "Первое")
    second = await add_notice(seeded, "Второе")

    assert [e["id"] for e in await read_events(seeded, 2)] == [first, second]
    resumed = read_events(seeded, 1, headers={"Last-Event-ID": str(first)})
    assert [e["data"]["subject"] for e in await resumed] == ["Второе"]

    async def later() -> int:
        await asyncio.sleep(1.5)
        return await add_notice(seeded, "Третье")

    waiting = read_events(seeded, 1, headers={"Last-Event-ID": str(second)})
    events, third = await asyncio.gather(waiting, later())
    assert [e["id"] for e in events] == [third], "a notice made while listening arrives"
