"""Records the replay histories from real runs: the store as the API tests drive it
(tests/support/shop.py: the app, workers with the real activities on a migrated SQLite database
holding the sample catalogue, the courier and bank emulator processes, a Temporal dev server;
the time-skipping test server where days must pass), each scenario a shopper's or an operator's
real path through the API. A failure for good is a stand-in activity (tests/support/sabotage.py)
or a real refusal (a wallet without money, a declined card, an address taken meanwhile).

Not collected by `pytest` (no `test_` file name); run it as `python -m tests.replay.record`
(tests/replay/record.py), which writes `tests/replay/histories/<version>/<kind>-<path>.json`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory
from tests.conftest import BankEmulator, time_skipping_server
from tests.replay.recorded import HISTORIES, current_release, is_closed, kind_slug, workflow_type
from tests.replay.recorded import write as write_history
from tests.replay.steps import (
    ask_email_change,
    bank_payment_id,
    confirm_in_bank_app,
    mailed_link,
    me,
    move,
    paid_from_the_wallet,
    pay_purchase,
    purchase,
)
from tests.support.auth import login_shopper, new_customer, register
from tests.support.bank import DECLINED_CARD, GOOD_CARD, card_on_bank_page
from tests.support.checkout import fund, pay, pick_up, post, settled, start, state_past, to_payment
from tests.support.orders import in_stock
from tests.support.sabotage import Sabotage, failing
from tests.support.shop import Shop, api_settings, open_shop

RUN_END_SECONDS = 60.0  # a recorded run ends within this once the scenario is done with it
IDLE_MINUTES = 0.05  # three seconds of idleness: a checkout or a purchase expires
GRANTEE = {"granteeName": "Мария", "granteeEmail": "maria@example.ru", "design": "flowers"}
COURIER = {"kind": "COURIER", "address": "Москва, ул. Арбат, 10", "companyName": "СДЭК Экспресс"}
PURCHASE_BUSY = ("PAYING", "AWAITING_BANK", "FULFILLING")


def time_passes(env: WorkflowEnvironment) -> contextlib.AbstractAsyncContextManager[None]:
    """On the time-skipping server: time jumps to the next timer while the block waits (what
    the server's own handles do in `result()`; the app started these runs)."""
    unlocked = getattr(env, "time_skipping_unlocked", None)
    return unlocked() if unlocked is not None else contextlib.nullcontext()


@dataclass
class Keep:
    """Writes a finished run's history as `<kind>-<path>.json` into the set being recorded."""

    into: Path
    written: set[str] = field(default_factory=set)

    async def __call__(self, env: WorkflowEnvironment, workflow_id: str, path: str) -> None:
        run_id = (await env.client.get_workflow_handle(workflow_id).describe()).run_id
        handle = env.client.get_workflow_handle(workflow_id, run_id=run_id)
        async with asyncio.timeout(RUN_END_SECONDS), time_passes(env):
            with contextlib.suppress(WorkflowFailureError):  # a failed run is recorded too
                await handle.result()
        history = await handle.fetch_history()
        assert is_closed(history), f"{workflow_id} has not ended"
        name = f"{kind_slug(workflow_type(history))}-{path}.json"
        assert name not in self.written, f"two scenarios record {name}"
        self.written.add(name)
        write_history(history, self.into / name)


@pytest.fixture(scope="session")
def keep(pytestconfig: pytest.Config) -> Keep:
    release = pytestconfig.getoption("--histories-release", None) or current_release()
    return Keep(HISTORIES / str(release))


@pytest.fixture(autouse=True)
def _sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("histories are recorded once, on SQLite")


@pytest.fixture
async def buyer() -> AsyncIterator[httpx.AsyncClient]:
    """The buyer's browser on the bank's pages."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as client:
        yield client


@dataclass(frozen=True)
class Parts:
    """What a shop of a scenario's own is made of (`opened`)."""

    sessions: SessionFactory
    dev: WorkflowEnvironment
    couriers_url: str
    bank: BankEmulator


@pytest.fixture
def parts(
    seeded_sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> Parts:
    return Parts(seeded_sessions, dev_server_env, couriers_url, bank_emulator)


@contextlib.asynccontextmanager
async def opened(
    parts: Parts,
    env: WorkflowEnvironment | None = None,
    *,
    sabotage: Sabotage | None = None,
    logged_in: bool = True,
    idle_minutes: float = api_settings().checkout_idle_minutes,
) -> AsyncIterator[Shop]:
    """The shop on the scenario's copy of the catalogue (the dev server unless `env`), a shopper
    logged in; `idle_minutes`: how long a checkout or a purchase waits for the shopper."""
    async with open_shop(
        parts.sessions,
        env or parts.dev,
        parts.couriers_url,
        parts.bank,
        sabotage,
        checkout_idle_minutes=idle_minutes,
    ) as shop:
        yield await login_shopper(shop) if logged_in else shop


# --- Registration ------------------------------------------------------------------------------


async def test_registration_completed(seeded: Shop, keep: Keep) -> None:
    await keep(seeded.env, f"registration-{await me(seeded)}", "completed")


async def test_registration_compensated(parts: Parts, keep: Keep) -> None:
    """The notification account is refused for good: user, wallet and profile are undone."""
    async with opened(
        parts, sabotage=failing("notification.create_account"), logged_in=False
    ) as shop:
        body = new_customer()
        refused = await shop.http.post("/auth/register", json=body)
        assert refused.status_code == 409, refused.text
        await keep(shop.env, f"registration-{body['username']}", "compensated")


async def test_registration_without_the_welcome_mail(parts: Parts, keep: Keep) -> None:
    async with opened(
        parts, sabotage=failing("notification.send_welcome_mail"), logged_in=False
    ) as shop:
        body = await register(shop)
        await keep(shop.env, f"registration-{body['username']}", "welcome-mail-failed")


# --- Checkout, its payment on the bank's page, the fulfilment ----------------------------------


async def test_checkout_paid_from_the_wallet_then_picked_up(seeded: Shop, keep: Keep) -> None:
    oid = await paid_from_the_wallet(seeded)
    await keep(seeded.env, f"checkout-{oid}", "paid")
    for stage in ("SENT_TO_PICKUP_POINT", "AT_PICKUP_POINT", "PICKED_UP"):
        await move(seeded, oid, stage)
    await keep(seeded.env, f"delivery-{oid}", "picked-up")


async def test_checkout_by_courier_paid_on_the_bank_page_then_delivered(
    seeded: Shop, buyer: httpx.AsyncClient, keep: Keep
) -> None:
    """Courier chosen and its cost confirmed, a new card paid on the bank's page and remembered."""
    (product,) = await in_stock(seeded.http, count=1)
    oid = (await start(seeded, product["id"]))["id"]
    chosen = await post(seeded.http, f"/checkout/{oid}/delivery", COURIER)
    assert chosen.status_code == 200, chosen.text
    cost = chosen.json()["delivery"]["cost"]
    await post(seeded.http, f"/checkout/{oid}/confirm-delivery-cost", {"cost": cost})
    waiting = await pay(seeded, oid, method="BANK_CARD", saveCard=True)
    assert waiting["step"] == "AWAITING_BANK", waiting
    await card_on_bank_page(buyer, waiting["paymentUrl"], GOOD_CARD)
    assert (await settled(seeded, oid))["step"] == "PAID"
    await keep(seeded.env, f"checkout-{oid}", "paid-on-the-bank-page")
    await keep(seeded.env, f"payment-order-{oid}-v0-1", "paid")
    await move(seeded, oid, "HANDED_TO_COURIER")
    await move(seeded, oid, "OUT_FOR_DELIVERY", slot="10:00–12:00")
    await move(seeded, oid, "DELIVERED")
    await keep(seeded.env, f"delivery-{oid}", "delivered")


async def test_checkout_payment_declined_then_back_to_the_cart(
    seeded: Shop, buyer: httpx.AsyncClient, keep: Keep
) -> None:
    """The bank declines the card, the wallet has no money, the shopper leaves: stock released."""
    oid, _ = await to_payment(seeded)
    first = await pay(seeded, oid, method="BANK_CARD")
    await card_on_bank_page(buyer, first["paymentUrl"], DECLINED_CARD)
    assert (await settled(seeded, oid))["lastError"] == "Банк отклонил операцию"
    await keep(seeded.env, f"payment-order-{oid}-v0-1", "declined")
    short = await pay(seeded, oid, method="WALLET")
    assert "Недостаточно средств" in short["lastError"], short
    back = await post(seeded.http, f"/checkout/{oid}/back")
    assert back.json()["step"] == "BACK_TO_CART", back.text
    await keep(seeded.env, f"checkout-{oid}", "payment-declined")


async def test_checkout_failing_after_payment_is_undone(parts: Parts, keep: Keep) -> None:
    """The delivery case cannot be opened: the stock goes back, the wallet gets its money back."""
    async with opened(parts, sabotage=failing("delivery.open_case")) as shop:
        await fund(shop, 100_000)
        oid, _ = await to_payment(shop)
        assert (await pay(shop, oid, method="WALLET"))["step"] == "FAILED"
        await keep(shop.env, f"checkout-{oid}", "confirm-failed")


async def test_checkout_left_idle_expires(parts: Parts, keep: Keep) -> None:
    async with opened(parts, idle_minutes=IDLE_MINUTES) as shop:
        (product,) = await in_stock(shop.http, count=1)
        oid = (await start(shop, product["id"]))["id"]
        await pick_up(shop, oid)
        await keep(shop.env, f"checkout-{oid}", "expired")


async def test_bank_page_left_then_paid_there_is_refunded(
    seeded: Shop, buyer: httpx.AsyncClient, keep: Keep
) -> None:
    """«Выбрать другой способ оплаты» on СБП; the shopper confirms in the bank app anyway: the
    late payment is refunded; then back to the cart."""
    oid, _ = await to_payment(seeded)
    waiting = await pay(seeded, oid, method="SBP")
    payment_id = bank_payment_id(waiting)
    left = await post(seeded.http, f"/checkout/{oid}/leave-bank-page")
    assert left.json()["step"] == "CHOOSING_DELIVERY", left.text
    await keep(seeded.env, f"payment-order-{oid}-v0-1", "given-up")
    await confirm_in_bank_app(seeded, buyer, payment_id)
    await keep(seeded.env, f"bank-late-{payment_id}", "refunded")
    await post(seeded.http, f"/checkout/{oid}/back")
    await keep(seeded.env, f"checkout-{oid}", "bank-page-left")


async def test_bank_page_left_then_declined_there(
    seeded: Shop, buyer: httpx.AsyncClient, keep: Keep
) -> None:
    oid, _ = await to_payment(seeded)
    waiting = await pay(seeded, oid, method="BANK_CARD")
    await post(seeded.http, f"/checkout/{oid}/leave-bank-page")
    await card_on_bank_page(buyer, waiting["paymentUrl"], DECLINED_CARD)
    await keep(seeded.env, f"bank-late-{bank_payment_id(waiting)}", "declined")
    await post(seeded.http, f"/checkout/{oid}/back")


async def test_fulfilment_canceled_by_the_shopper(seeded: Shop, keep: Keep) -> None:
    oid = await paid_from_the_wallet(seeded)
    canceled = await seeded.http.post("/order/cancel-paid", json={"id": oid})
    assert canceled.status_code == 200, canceled.text
    await keep(seeded.env, f"delivery-{oid}", "canceled")


async def test_fulfilment_returned_after_the_pickup_days(parts: Parts, keep: Keep) -> None:
    """Nobody comes to the pickup point: a reminder, then stock back and money back (7 days
    pass on the time-skipping server)."""
    async with time_skipping_server() as env, opened(parts, env) as shop:
        oid = await paid_from_the_wallet(shop)
        await move(shop, oid, "SENT_TO_PICKUP_POINT")
        await move(shop, oid, "AT_PICKUP_POINT")
        await keep(shop.env, f"delivery-{oid}", "returned")


# --- Gift cards and top-ups ----------------------------------------------------------------------


async def test_gift_card_paid_from_the_wallet(seeded: Shop, keep: Keep) -> None:
    await fund(seeded, 2000)
    purchase_id = await purchase(seeded, "giftcard", **GRANTEE, amount=1500)
    assert (await pay_purchase(seeded, purchase_id, method="WALLET"))["step"] == "DONE"
    await keep(seeded.env, purchase_id, "paid")


async def test_gift_card_not_issued_after_payment_is_refunded(parts: Parts, keep: Keep) -> None:
    async with opened(parts, sabotage=failing("billing.issue_gift_card")) as shop:
        await fund(shop, 1000)
        purchase_id = await purchase(shop, "giftcard", **GRANTEE, amount=600)
        assert (await pay_purchase(shop, purchase_id, method="WALLET"))["step"] == "FAILED"
        await keep(shop.env, purchase_id, "issue-failed")


async def test_gift_card_payment_declined_then_expired(parts: Parts, keep: Keep) -> None:
    async with opened(parts, idle_minutes=IDLE_MINUTES) as shop:
        purchase_id = await purchase(shop, "giftcard", **GRANTEE, amount=600)
        declined = await pay_purchase(shop, purchase_id, method="WALLET")
        assert "Недостаточно средств" in declined["lastError"], declined
        await keep(shop.env, purchase_id, "payment-declined")


async def test_top_up_paid_by_sbp(seeded: Shop, buyer: httpx.AsyncClient, keep: Keep) -> None:
    purchase_id = await purchase(seeded, "topup", amount=750.5)
    waiting = await pay_purchase(seeded, purchase_id, method="SBP")
    await confirm_in_bank_app(seeded, buyer, bank_payment_id(waiting))
    done = await state_past(seeded, f"/purchase/{purchase_id}/state", PURCHASE_BUSY)
    assert done["step"] == "DONE", done
    await keep(seeded.env, purchase_id, "paid")


async def test_top_up_not_credited_after_payment_is_refunded(
    parts: Parts, buyer: httpx.AsyncClient, keep: Keep
) -> None:
    async with opened(parts, sabotage=failing("billing.credit_wallet")) as shop:
        purchase_id = await purchase(shop, "topup", amount=500)
        waiting = await pay_purchase(shop, purchase_id, method="SBP")
        await confirm_in_bank_app(shop, buyer, bank_payment_id(waiting))
        failed = await state_past(shop, f"/purchase/{purchase_id}/state", PURCHASE_BUSY)
        assert failed["step"] == "FAILED", failed
        await keep(shop.env, purchase_id, "credit-failed")


async def test_top_up_payment_declined_then_expired(
    parts: Parts, buyer: httpx.AsyncClient, keep: Keep
) -> None:
    async with opened(parts, idle_minutes=IDLE_MINUTES) as shop:
        purchase_id = await purchase(shop, "topup", amount=500)
        waiting = await pay_purchase(shop, purchase_id, method="BANK_CARD")
        await card_on_bank_page(buyer, waiting["paymentUrl"], DECLINED_CARD)
        await keep(shop.env, purchase_id, "payment-declined")


# --- E-mail change -------------------------------------------------------------------------------


async def test_email_changed_by_the_newest_link(seeded: Shop, keep: Keep) -> None:
    """Two addresses asked for, the newest link followed."""
    username = await me(seeded)
    for address in (f"first-{username}@example.ru", f"second-{username}@example.ru"):
        await ask_email_change(seeded, address)
    link = await mailed_link(seeded, f"second-{username}@example.ru")
    confirmed = await seeded.http.post("/auth/email/confirm", json=link)
    assert confirmed.json()["status"] == "CHANGED", confirmed.text
    await keep(seeded.env, f"email-change-{username}", "changed")


async def test_email_change_fails_when_the_address_was_taken_meanwhile(
    seeded: Shop, keep: Keep
) -> None:
    username = await me(seeded)
    address = f"new-{username}@example.ru"
    await ask_email_change(seeded, address)
    link = await mailed_link(seeded, address)
    await register(seeded, email=address)  # another shopper takes the address first
    refused = await seeded.http.post("/auth/email/confirm", json=link)
    assert refused.status_code == 409, refused.text
    await keep(seeded.env, f"email-change-{username}", "failed")


async def test_email_change_link_never_followed_expires(parts: Parts, keep: Keep) -> None:
    """A day passes on the time-skipping server."""
    async with time_skipping_server() as env, opened(parts, env) as shop:
        username = await me(shop)
        await ask_email_change(shop, f"new-{username}@example.ru")
        await mailed_link(shop, f"new-{username}@example.ru")
        await keep(shop.env, f"email-change-{username}", "expired")
