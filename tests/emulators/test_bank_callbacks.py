"""The callback faults a PaymentWorkflow must survive, as the bank emulator shows them on demand:
retries until answered (and giving up), duplicates, reordering, holding back."""

from __future__ import annotations

import asyncio

import httpx

from adapters.bank import (
    HttpBankGateway,
    PaymentStatus,
    verify_callback,
)
from tests.conftest import free_ports
from tests.support.bank import (
    GOOD_CARD,
    RETRY_TRIES,
    SECRET,
    CallbackReceiver,
    deliveries,
    key,
    new_payment,
    pay_by_card,
)

# --- callback faults --------------------------------------------------------------------------


async def test_callbacks_are_retried_until_answered_and_then_given_up(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    callback_url = receiver.url()
    receiver.fail_next[callback_url.split(str(receiver.port), 1)[1]] = 2
    payment = await new_payment(gateway, callback_url)
    await pay_by_card(buyer, payment, GOOD_CARD)

    (delivered,) = await receiver.wait_for(callback_url, 1)
    tries = receiver.at(callback_url, answered=None)
    assert [t.answered for t in tries] == [500, 500, 200]
    assert {t.event.event_id for t in tries} == {delivered.event.event_id}
    # The bank logs a try once it has read the answer, a moment after the receiver counted it.
    log = await deliveries(admin, payment.payment_id, at_least=3)
    assert [(e["attempt"], e["answer"]) for e in log] == [(1, 500), (2, 500), (3, 200)]

    # Nobody listening: bounded tries, then the bank gives up.
    (dead_port,) = free_ports(1)
    nowhere = await new_payment(gateway, f"http://127.0.0.1:{dead_port}/callbacks")
    await pay_by_card(buyer, nowhere, GOOD_CARD)
    await deliveries(admin, nowhere.payment_id, at_least=RETRY_TRIES)
    await asyncio.sleep(0.5)
    log = await deliveries(admin, nowhere.payment_id)
    assert [e["attempt"] for e in log] == list(range(1, RETRY_TRIES + 1))
    assert all(e["answer"] is None and e["error"] for e in log)


async def test_duplicate_callbacks_share_the_event_id(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    (await admin.post("/admin/callbacks", json={"duplicate": True})).raise_for_status()
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url)
    await pay_by_card(buyer, payment, GOOD_CARD)

    first, second = await receiver.wait_for(callback_url, 2)

    assert first.body == second.body
    assert first.event.event_id == second.event.event_id
    for delivery in (first, second):
        assert verify_callback(delivery.body, delivery.headers["x-bank-signature"], SECRET)


async def test_reordered_callbacks_bring_the_final_status_first(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    settings = {"reorder": True, "delayMs": 600}
    (await admin.post("/admin/callbacks", json=settings)).raise_for_status()
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, amount=50_00)
    await pay_by_card(buyer, payment, GOOD_CARD)
    await gateway.refund(payment.payment_id, amount_kopecks=50_00, idempotency_key=key())

    later, earlier = (r.event for r in await receiver.wait_for(callback_url, 2))

    assert (later.status, earlier.status) == (PaymentStatus.REFUNDED, PaymentStatus.SUCCEEDED)
    assert later.occurred_at > earlier.occurred_at  # what a receiver can order them by


async def test_held_callbacks_leave_polling_to_tell_a_late_success(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    (await admin.post("/admin/callbacks/hold")).raise_for_status()
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url)
    await pay_by_card(buyer, payment, GOOD_CARD)

    await asyncio.sleep(0.3)
    assert receiver.at(callback_url, answered=None) == []
    assert (await gateway.get_payment(payment.payment_id)).status is PaymentStatus.SUCCEEDED

    released = await admin.post("/admin/callbacks/release")
    assert released.json() == {"held": False, "released": 1}
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is PaymentStatus.SUCCEEDED
