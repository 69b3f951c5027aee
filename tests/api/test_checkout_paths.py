"""Every checkout path ends paid or back in the cart: checking an order out again after a
declined attempt or an expiry, going back while another cart is open, and a worker outage that
answers 503 instead of hanging."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory, transaction
from models.payloads import CheckoutState
from services import billing
from tests.conftest import BankEmulator
from tests.support.auth import login_shopper
from tests.support.checkout import fund, pick_up, post, start
from tests.support.orders import in_stock, place
from tests.support.shop import Shop, open_shop
from tests.support.stock import stock_of
from workflows.policies import FLOW_STATUS


async def _debits(shop: Shop) -> list[int]:
    me = (await shop.http.get("/auth/auth")).json()["username"]
    async with transaction(shop.sessions) as session:
        log = await billing.transactions(session=session, username=me)
    return [entry.amount_kopecks for entry in log if entry.kind.value == "DEBIT"]


async def _order(shop: Shop, oid: str) -> dict[str, Any]:
    body: dict[str, Any] = (await shop.http.get("/order/get", params={"orderId": oid})).json()
    return body


async def _process_again(shop: Shop, oid: str) -> dict[str, Any]:
    order = await _order(shop, oid)
    assert order["status"] == "NEW", order
    again = await shop.http.put("/order/process", json={"id": oid, "version": order["version"]})
    assert again.status_code == 200, again.text
    body: dict[str, Any] = again.json()
    return body


async def _declined_by_an_empty_wallet(shop: Shop, oid: str) -> None:
    assert (await pick_up(shop, oid)).status_code == 200
    declined = (await post(shop.http, f"/checkout/{oid}/pay", {"method": "WALLET"})).json()
    assert declined["step"] == "CHOOSING_DELIVERY", declined
    assert declined["lastError"], "the shopper is told why"


async def _pays(shop: Shop, oid: str) -> None:
    assert (await pick_up(shop, oid)).status_code == 200
    paid = await post(shop.http, f"/checkout/{oid}/pay", {"method": "WALLET"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["step"] == "PAID", paid.json()
    assert (await _order(shop, oid))["status"] == "PAID"


async def test_checking_out_again_after_a_declined_attempt_pays_once(seeded: Shop) -> None:
    (product,) = await in_stock(seeded.http, count=1)
    oid = (await start(seeded, product["id"]))["id"]
    await _declined_by_an_empty_wallet(seeded, oid)
    back = await post(seeded.http, f"/checkout/{oid}/back")
    assert back.json()["step"] == "BACK_TO_CART"

    await fund(seeded, 100_000)
    assert (await _process_again(seeded, oid))["status"] == "IN_PROGRESS"
    await _pays(seeded, oid)
    total = round((await _order(seeded, oid))["total"] * 100)
    assert await _debits(seeded) == [total], "exactly one debit"


async def test_checking_out_again_after_an_expiry_pays_once(
    seeded_sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> None:
    async with open_shop(
        seeded_sessions, dev_server_env, couriers_url, bank_emulator, checkout_idle_minutes=0.1
    ) as shop:
        await login_shopper(shop)
        (product,) = await in_stock(shop.http, count=1)
        before = await stock_of(shop.sessions, product["id"])
        oid = (await start(shop, product["id"]))["id"]
        await _declined_by_an_empty_wallet(shop, oid)
        expired = await shop.env.client.get_workflow_handle(
            f"checkout-{oid}", result_type=CheckoutState
        ).result()
        assert expired.step == "EXPIRED"
        assert await stock_of(shop.sessions, product["id"]) == before, "the hold is released"

        await fund(shop, 100_000)
        await _process_again(shop, oid)
        await _pays(shop, oid)
        assert len(await _debits(shop)) == 1, "exactly one debit"


async def test_going_back_with_another_cart_open_merges_the_goods_into_it(seeded: Shop) -> None:
    first, second = await in_stock(seeded.http, count=2)
    before = await stock_of(seeded.sessions, first["id"])
    checked_out = (await start(seeded, first["id"], 2))["id"]
    other_cart = (await place(seeded.http, (second["id"], 1), (first["id"], 1)))["id"]

    began = time.monotonic()
    back = await post(seeded.http, f"/checkout/{checked_out}/back")
    assert time.monotonic() - began < 10, "answered at once"
    assert back.status_code == 200, back.text
    assert (back.json()["step"], back.json()["cartOrderId"]) == ("BACK_TO_CART", other_cart)

    assert (await _order(seeded, checked_out))["status"] == "MERGED"
    cart = await _order(seeded, other_cart)
    assert cart["status"] == "NEW"
    quantities = {item["product"]["id"]: item["quantity"] for item in cart["orderItems"]}
    assert quantities == {first["id"]: 3, second["id"]: 1}, "every unit in the one cart"
    assert await stock_of(seeded.sessions, first["id"]) == before, "the hold is released"
    result = await seeded.env.client.get_workflow_handle(
        f"checkout-{checked_out}", result_type=CheckoutState
    ).result()
    assert result.step == "BACK_TO_CART"


async def test_an_update_with_no_worker_answers_503_within_the_bound(
    seeded_sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> None:
    """The workers of this shop are gone (none serves its queue): the checkout's requests answer
    503 in Russian after `update_wait_seconds`, never hang."""
    async with open_shop(seeded_sessions, dev_server_env, couriers_url, bank_emulator) as shop:
        await login_shopper(shop)
        (product,) = await in_stock(shop.http, count=1)
        placed = await place(shop.http, (product["id"], 1))
        queues = shop.queues
    async with open_shop(
        seeded_sessions,
        dev_server_env,
        couriers_url,
        bank_emulator,
        queues=queues,
        serve=lambda _queue: False,
        update_wait_seconds=2,
    ) as outage:
        outage.http.cookies = shop.http.cookies
        began = time.monotonic()
        answer = await asyncio.wait_for(
            outage.http.put("/order/process", json={"id": placed["id"], "version": 0}), 30
        )
        waited = time.monotonic() - began
        began = time.monotonic()
        page = await asyncio.wait_for(
            outage.http.get(f"/checkout/{placed['id']}", headers={"accept": "text/html"}), 30
        )
        page_waited = time.monotonic() - began
        await outage.env.client.get_workflow_handle(f"checkout-{placed['id']}").terminate(
            "test cleanup: no worker will ever serve it"
        )
    assert answer.status_code == 503, answer.text
    assert "Workflow" not in answer.text
    assert answer.json()["errorMessage"].startswith("Магазин сейчас не успевает ответить")
    assert 2 <= waited < 10
    assert page.status_code == 503, "the checkout page cannot ask the run either"
    assert "Магазин сейчас не успевает ответить" in page.text
    assert page_waited < 10


async def test_operators_see_the_checkout_wait_for_the_bank(seeded: Shop) -> None:
    """FlowStatus follows the checkout into AWAITING_BANK (docs/operations.md finds runs by it)."""
    (product,) = await in_stock(seeded.http, count=1)
    oid = (await start(seeded, product["id"]))["id"]
    await pick_up(seeded, oid)
    waiting = (await post(seeded.http, f"/checkout/{oid}/pay", {"method": "SBP"})).json()
    assert waiting["step"] == "AWAITING_BANK", waiting
    run = await seeded.env.client.get_workflow_handle(f"checkout-{oid}").describe()
    assert run.typed_search_attributes.get(FLOW_STATUS) == "AWAITING_BANK"
    left = (await post(seeded.http, f"/checkout/{oid}/leave-bank-page")).json()
    assert left["step"] == "CHOOSING_DELIVERY"
    run = await seeded.env.client.get_workflow_handle(f"checkout-{oid}").describe()
    assert run.typed_search_attributes.get(FLOW_STATUS) == "CHOOSING_DELIVERY"
    await post(seeded.http, f"/checkout/{oid}/back")
