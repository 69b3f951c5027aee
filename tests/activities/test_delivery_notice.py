"""A delivery notice (Format 4) is delivered once per stage, whatever retries happen: a failed
hand-over to the mail system is retried, a repeated activity finds the notice already sent."""

from __future__ import annotations

import pytest
from temporalio.testing import ActivityEnvironment

from activities.notification import NotificationActivities
from adapters.mailer import RecordingMailer
from core.db import SessionFactory
from models.payloads import DeliveryChoice, NotificationAccountInput
from models.payloads_fulfilment import DeliveryNoticeInput

STORE_URL = "http://shop.test"
PICKUP = DeliveryChoice("PICKUP", "", "Москва, ул. Арбат, 10", 1, 0, "2026-12-03", "Пункт")
COURIER = DeliveryChoice(
    "COURIER", "Быстрые", "Москва, ул. Ленина, 1", None, 300_00, "2026-12-04", ""
)


def notice(choice: DeliveryChoice, stage: str, slot: str = "") -> DeliveryNoticeInput:
    return DeliveryNoticeInput(
        order_id="0c1f3e2a-order",
        username="bob",
        stage=stage,  # type: ignore[arg-type]
        delivery=choice,
        slot=slot,
        detail="Заказ ждёт вас в пункте выдачи",
        idempotency_key=f"delivery-0c1f3e2a-order-{stage}",
    )


async def test_a_notice_retried_is_delivered_once(sessions: SessionFactory) -> None:
    env = ActivityEnvironment()
    mailer = RecordingMailer(failures_left=1)
    activities = NotificationActivities(sessions, mailer, STORE_URL)
    await env.run(
        activities.create_account,
        NotificationAccountInput(username="bob", email="bob@example.ru", phone="+79123456780"),
    )
    at_point = notice(PICKUP, "AT_PICKUP_POINT")
    with pytest.raises(ConnectionRefusedError):  # the mail system was down: retried
        await env.run(activities.send_delivery_notice, at_point)
    first = await env.run(activities.send_delivery_notice, at_point)
    again = await env.run(activities.send_delivery_notice, at_point)  # a retried activity
    assert (first.already_sent, again.already_sent) == (False, True)
    (mail,) = mailer.sent
    assert mail.to == "bob@example.ru"
    assert mail.subject == "Заказ 0c1f3e2a: Заказ ждёт вас в пункте выдачи"
    assert "Пункт выдачи: Москва, ул. Арбат, 10" in mail.body
    assert "Дата: 2026-12-03" in mail.body


async def test_a_courier_notice_names_the_address_and_the_slot(sessions: SessionFactory) -> None:
    env = ActivityEnvironment()
    mailer = RecordingMailer()
    activities = NotificationActivities(sessions, mailer, STORE_URL)
    await env.run(
        activities.create_account,
        NotificationAccountInput(username="bob", email="bob@example.ru", phone="+79123456780"),
    )
    await env.run(
        activities.send_delivery_notice, notice(COURIER, "OUT_FOR_DELIVERY", "10:00–12:00")
    )
    (mail,) = mailer.sent
    assert "Адрес доставки: Москва, ул. Ленина, 1" in mail.body
    assert "Время доставки: 10:00–12:00" in mail.body
