"""The store as a production deployment runs it on one machine (tests/topology/deployment.py):
PostgreSQL, two API processes, one worker process per task queue of the split layout. Fifty
shoppers, alternating between the two APIs, race for the last ten units; a gift card bought
through one API reaches its grantee by mail and pays the friend's order through the other, who
then cancels it for a refund. Every activity task is checked, by the PID in its history, to have
run in the process serving its domain's queue."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from core.db import transaction
from flows import checkout, fulfilment, registration
from services import billing
from tests.support.auth import log_in_new_customer
from tests.support.checkout import post
from tests.support.errors import assert_error
from tests.support.gift_cards import card_balance
from tests.support.orders import place
from tests.support.race import (
    PASSWORD,
    SHOPPERS,
    UNITS,
    assert_race_settled,
    attempt,
    prepare_race,
)
from tests.topology.deployment import POSTGRES, Deployment
from workflows.policies import DOMAINS

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES, reason="needs SHOP_TEST_DATABASE_URL pointing at PostgreSQL"),
    # The first test also starts the deployment (≈ 20–40 s here); each is bounded on its own.
    pytest.mark.timeout(300),
]

REQUEST_TIMEOUT = 150.0  # past the APIs' SHOP_UPDATE_WAIT_SECONDS (120)
WITHIN = 60.0  # a mail, a run's end, a fulfilment stage
CODE = re.compile(r"Код активации: ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})")
GRANTEE = {"granteeName": "Мария", "granteeEmail": "maria@example.ru", "design": "flowers"}
BUYER_FUNDS_KOPECKS = 20_000_00
CARD_ROUBLES = 15_000


@asynccontextmanager
async def browser(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """One shopper's client of one API process (it keeps the session cookie)."""
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT) as http:
        yield http


async def finished(deployment: Deployment, *workflow_ids: str) -> None:
    """Until every one of these runs has ended (its last activities, mails too, have run)."""
    async with asyncio.timeout(WITHIN):
        for workflow_id in workflow_ids:
            await deployment.temporal.get_workflow_handle(workflow_id).result()


async def test_every_task_queue_is_polled_by_its_own_worker_process_alone(
    deployment: Deployment,
) -> None:
    queues = deployment.queues
    assert set(deployment.workers) == {
        queues.workflows,
        *(queues.activities(domain) for domain in DOMAINS),
    }
    for queue, worker in deployment.workers.items():
        assert await deployment.pollers(queue) == {worker.pid}, queue
        assert re.findall(r"worker serving (.*)$", worker.text(), re.MULTILINE) == [queue]


async def test_fifty_shoppers_on_two_apis_for_the_last_ten_units(deployment: Deployment) -> None:
    race = await prepare_race(deployment.sessions)
    async with AsyncExitStack() as stack:
        # Each shopper keeps to one API process, alternating between the two; logged in there.
        shoppers = [
            await stack.enter_async_context(browser(deployment.api_urls[n % 2]))
            for n in range(SHOPPERS)
        ]
        logins = await asyncio.gather(
            *(
                post(http, "/auth/login", {"username": name, "password": PASSWORD})
                for http, name in zip(shoppers, race.usernames, strict=True)
            )
        )
        assert [r.status_code for r in logins] == [200] * SHOPPERS, [r.text for r in logins]

        started = time.monotonic()
        attempts = await asyncio.gather(*(attempt(http, race) for http in shoppers))
        print(f"\nrace: {SHOPPERS} checkouts at once in {time.monotonic() - started:.1f} s")

    outcomes = [a.outcome for a in attempts]
    assert outcomes.count("PAID") == UNITS, outcomes
    assert set(outcomes) == {"PAID", "process 409"}, outcomes
    for refused in (a.refusal for a in attempts if a.outcome != "PAID"):
        assert refused is not None
        body = assert_error(refused, 409)
        assert body["errorMessage"] == f"Товара {race.product_id} не хватает: недостаёт 1 шт."
    await assert_race_settled(deployment.sessions, race)
    for api in deployment.apis:  # each API process took its half of the shoppers
        assert api.text().count('"PUT /order/process HTTP/1.1"') == SHOPPERS // 2, api.name

    async with transaction(deployment.sessions) as session:
        conn = await session.connection()
        paid = (
            (
                await conn.execute(
                    text(
                        "SELECT id FROM order_order"
                        " WHERE status = 'PAID' AND username LIKE 'racer%'"
                    )
                )
            )
            .scalars()
            .all()
        )
    runs = [checkout.workflow_id(oid) for oid in paid]
    await finished(deployment, *runs)
    ran = await deployment.assert_run_apart(*runs)
    assert deployment.queues.activities("notification") in ran, "the result mails"


async def test_a_gift_card_bought_on_one_api_pays_for_a_friends_order_on_the_other(
    deployment: Deployment,
) -> None:
    first, second = deployment.api_urls
    grantee = GRANTEE["granteeEmail"]
    async with browser(first) as buyer, browser(second) as friend:
        buyer_name = (await log_in_new_customer(buyer))["username"]
        async with transaction(deployment.sessions) as session:
            await billing.credit_wallet(
                session=session,
                username=buyer_name,
                amount_kopecks=BUYER_FUNDS_KOPECKS,
                idempotency_key=f"test-fund-{buyer_name}",
                reference="test",
            )
        started = await post(buyer, "/purchase/giftcard", {**GRANTEE, "amount": CARD_ROUBLES})
        assert started.status_code == 200, started.text
        assert started.json()["step"] == "CHOOSING_PAYMENT"
        purchase_id = started.json()["purchaseId"]
        paid = await post(buyer, f"/purchase/{purchase_id}/pay", {"method": "WALLET"})
        assert paid.status_code == 200, paid.text
        assert paid.json()["step"] == "DONE", paid.json()
        assert paid.json()["giftCardId"] is not None
        async with transaction(deployment.sessions) as session:
            wallet = await billing.get_wallet(session=session, username=buyer_name)
        assert wallet.balance_kopecks == BUYER_FUNDS_KOPECKS - CARD_ROUBLES * 100

        mail = await mail_to(deployment, grantee)
        found = CODE.search(mail["body"])
        assert found, mail
        assert "Мария" in mail["body"]
        await finished(deployment, purchase_id)

        friend_name = (await log_in_new_customer(friend))["username"]
        activated = await post(friend, "/payment/activate", {"activationCode": found.group(1)})
        assert activated.status_code == 200, activated.text
        assert activated.json()["balance"] == CARD_ROUBLES
        card_id = activated.json()["id"]

        oid, total = await checked_out(friend, CARD_ROUBLES)
        paid = await post(
            friend, f"/checkout/{oid}/pay", {"method": "GIFT_CARD", "tokenId": card_id}
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["step"] == "PAID", paid.json()
        assert await card_balance(deployment.sessions, card_id) == CARD_ROUBLES * 100 - round(
            total * 100
        )
        await stage_of(friend, oid, "PICKING")
        canceled = await post(friend, "/order/cancel-paid", {"id": oid})
        assert canceled.status_code == 200, canceled.text
        assert (canceled.json()["stage"], canceled.json()["refunded"]) == ("CANCELED", True)
        assert await card_balance(deployment.sessions, card_id) == CARD_ROUBLES * 100

    runs = [
        registration.workflow_id(buyer_name),
        purchase_id,
        registration.workflow_id(friend_name),
        checkout.workflow_id(oid),
        fulfilment.workflow_id(oid),
    ]
    await finished(deployment, *runs)
    ran = await deployment.assert_run_apart(*runs)
    domain_queues = set(deployment.workers) - {deployment.queues.workflows}
    assert ran == domain_queues, "each domain's worker process ran some of these activities"
    buyer_api, friend_api = (api.text() for api in deployment.apis)
    assert '"POST /purchase/giftcard HTTP/1.1" 200' in buyer_api
    assert '"POST /purchase/giftcard HTTP/1.1"' not in friend_api
    assert '"POST /payment/activate HTTP/1.1" 200' in friend_api
    assert '"POST /payment/activate HTTP/1.1"' not in buyer_api


async def mail_to(deployment: Deployment, address: str) -> dict[str, Any]:
    """The first mail to `address` in the mail emulator (the worker sends it after the answer)."""
    async with (
        asyncio.timeout(WITHIN),
        httpx.AsyncClient(base_url=deployment.mail.http_url, timeout=5.0) as mailbox,
    ):
        while True:
            response = await mailbox.get("/api/messages", params={"to": address})
            response.raise_for_status()
            mails: list[dict[str, Any]] = response.json()
            if mails:
                return mails[0]
            await asyncio.sleep(0.2)


async def checked_out(http: httpx.AsyncClient, budget_roubles: int) -> tuple[str, float]:
    """An order of one seeded kettle costing at most `budget_roubles`, handed to checkout with
    the first pickup point chosen: its id and total."""
    page = (await http.get("/store/search", params={"q": "чайник", "pageSize": 60})).json()
    affordable = [
        card
        for card in page["items"]
        if card["price"] <= budget_roubles and sum(p["quantity"] for p in card["productPlaces"])
    ]
    assert affordable, page
    oid = (await place(http, (affordable[0]["id"], 1)))["id"]
    process = await http.put("/order/process", json={"id": oid, "version": 0})
    assert process.status_code == 200, process.text
    points = (await http.get("/delivery/points")).json()["pickupPoints"]
    chosen = await post(
        http, f"/checkout/{oid}/delivery", {"kind": "PICKUP", "pickupPointId": points[0]["id"]}
    )
    assert chosen.status_code == 200, chosen.text
    return oid, float(chosen.json()["total"])


async def stage_of(http: httpx.AsyncClient, oid: str, stage: str) -> None:
    """Until the order's line in GET /order/list shows `stage` (the fulfilment starts after the
    checkout reports PAID)."""
    async with asyncio.timeout(WITHIN):
        while True:
            response = await http.get("/order/list")
            assert response.status_code == 200, response.text
            lines = {line["order"]["id"]: line for line in response.json()}
            if lines.get(oid, {}).get("stage") == stage:
                return
            await asyncio.sleep(0.2)
