"""Checkout through the API on the real dev server (Updates): courier and pickup, wallet
payment, insufficient funds then retry, back to the cart, a second click reaching the same run."""

from __future__ import annotations

from temporalio.worker import Replayer

from tests.support.auth import login, register
from tests.support.checkout import balance, fund, pick_up, post, start
from tests.support.orders import in_stock
from tests.support.shop import Shop
from tests.support.stock import stock_of
from workers.bootstrap import WORKFLOWS
from workflows.policies import CUSTOMER_ID, FLOW_STATUS, ORDER_ID, PAYMENT_METHOD


async def test_pickup_checkout_paid_from_the_wallet(seeded: Shop) -> None:
    (product,) = await in_stock(seeded.http, count=1)
    before = await stock_of(seeded.sessions, product["id"])
    await fund(seeded, 100_000)
    started = await start(seeded, product["id"], 2)
    assert started["status"] == "IN_PROGRESS"
    assert await stock_of(seeded.sessions, product["id"]) == (before[0], before[1] + 2), (
        "held, not sold"
    )

    oid = started["id"]
    chosen = await pick_up(seeded, oid)
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["deliveryConfirmed"] is True
    paid = await post(seeded.http, f"/checkout/{oid}/pay", {"method": "WALLET"})

    assert paid.status_code == 200, paid.text
    assert paid.json()["step"] == "PAID"
    order = (await seeded.http.get("/order/get", params={"orderId": oid})).json()
    assert order["status"] == "PAID"
    assert await stock_of(seeded.sessions, product["id"]) == (before[0] - 2, before[1])
    assert await balance(seeded) == 100_000 - round(product["price"] * 2, 2)
    await seeded.env.client.get_workflow_handle(f"checkout-{oid}").result()  # mails come last
    subjects = [m.subject for m in seeded.mailer.sent]
    described = await seeded.env.client.get_workflow_handle(f"checkout-{oid}").describe()
    attributes = described.typed_search_attributes
    assert attributes.get(ORDER_ID) == oid, "an operator finds the run by order"
    assert attributes.get(CUSTOMER_ID) == (await seeded.http.get("/auth/auth")).json()["username"]
    assert attributes.get(FLOW_STATUS) == "PAID"
    assert attributes.get(PAYMENT_METHOD) == "WALLET"
    assert any("Оплата заказа" in s and "успешно" in s for s in subjects)
    assert any("оплачен" in s for s in subjects)


async def test_courier_needs_the_cost_confirmed_before_paying(seeded: Shop) -> None:
    (product,) = await in_stock(seeded.http, count=1)
    await fund(seeded, 100_000)
    oid = (await start(seeded, product["id"]))["id"]
    chosen = await post(
        seeded.http,
        f"/checkout/{oid}/delivery",
        {"kind": "COURIER", "address": "Москва, ул. Арбат, 10", "companyName": "СДЭК Экспресс"},
    )
    assert chosen.status_code == 200, chosen.text
    state = chosen.json()
    assert state["deliveryConfirmed"] is False
    cost = state["delivery"]["cost"]
    assert cost > 0

    early = await post(seeded.http, f"/checkout/{oid}/pay", {"method": "WALLET"})
    assert early.status_code == 409
    wrong = await post(seeded.http, f"/checkout/{oid}/confirm-delivery-cost", {"cost": cost + 1})
    assert wrong.status_code == 409
    confirmed = await post(seeded.http, f"/checkout/{oid}/confirm-delivery-cost", {"cost": cost})
    assert confirmed.json()["deliveryConfirmed"] is True
    paid = (await post(seeded.http, f"/checkout/{oid}/pay", {"method": "WALLET"})).json()
    assert paid["step"] == "PAID"
    assert paid["total"] == round(product["price"] + cost, 2)
    assert await balance(seeded) == round(100_000 - paid["total"], 2)


async def test_insufficient_wallet_then_retry_in_the_same_run(seeded: Shop) -> None:
    (product,) = await in_stock(seeded.http, count=1)
    oid = (await start(seeded, product["id"]))["id"]
    await pick_up(seeded, oid)

    declined = (await post(seeded.http, f"/checkout/{oid}/pay", {"method": "WALLET"})).json()
    assert declined["step"] == "CHOOSING_DELIVERY"
    assert "Недостаточно средств" in declined["lastError"]
    assert await balance(seeded) == 0
    await fund(seeded, 100_000)
    retried = (await post(seeded.http, f"/checkout/{oid}/pay", {"method": "WALLET"})).json()
    assert retried["step"] == "PAID"
    assert retried["paymentAttempts"] == 2


async def test_back_to_cart_releases_the_stock_at_once(seeded: Shop) -> None:
    (product,) = await in_stock(seeded.http, count=1)
    before = await stock_of(seeded.sessions, product["id"])
    started = await start(seeded, product["id"], 1)
    again = await seeded.http.put("/order/process", json={"id": started["id"], "version": 0})
    assert again.status_code == 200, "a second click reaches the same run"
    assert await stock_of(seeded.sessions, product["id"]) == (before[0], before[1] + 1), (
        "held once only"
    )

    back = await post(seeded.http, f"/checkout/{started['id']}/back")
    assert back.json()["step"] == "BACK_TO_CART"
    assert await stock_of(seeded.sessions, product["id"]) == before
    order = (await seeded.http.get("/order/get", params={"orderId": started["id"]})).json()
    assert order["status"] == "NEW"


async def test_someone_elses_checkout_is_404(seeded: Shop) -> None:
    (product,) = await in_stock(seeded.http, count=1)
    oid = (await start(seeded, product["id"]))["id"]
    await login(seeded, await register(seeded))
    assert (await seeded.http.get(f"/checkout/{oid}/state")).status_code == 404
    assert (
        await post(seeded.http, f"/checkout/{oid}/pay", {"method": "WALLET"})
    ).status_code == 404


async def test_histories_replay_on_the_current_code(seeded: Shop) -> None:
    """Each run's history replays deterministically on the workflow code as it is now: a change
    that would break running checkouts fails here (see docs/operations.md, evolving workflows)."""
    (product,) = await in_stock(seeded.http, count=1)
    await fund(seeded, 100_000)
    oid = (await start(seeded, product["id"]))["id"]
    await pick_up(seeded, oid)
    await post(seeded.http, f"/checkout/{oid}/pay", {"method": "WALLET"})
    client = seeded.env.client
    await client.get_workflow_handle(f"checkout-{oid}").result()

    replayer = Replayer(workflows=list(WORKFLOWS))
    for workflow_id in (f"checkout-{oid}",):  # the wallet pays inline: no payment run
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        await replayer.replay_workflow(history)
