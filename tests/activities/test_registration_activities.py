"""Registration activities over a real database (both backends) and the real mail emulator."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.auth import AuthActivities
from activities.billing import BillingActivities
from activities.notification import NotificationActivities
from activities.payment import PaymentActivities
from adapters.mailer import RecordingMailer, SmtpMailer
from core.db import SessionFactory, transaction
from models.billing import Wallet
from models.notification import Notification
from models.payloads import (
    CustomerInput,
    NotificationAccountInput,
    RegistrationInput,
    WelcomeMailInput,
)
from services import auth
from tests.conftest import MailEmulator, emulator_process, free_ports
from tests.support.fake_bank import FakeBankGateway

STORE_URL = "http://shop.test"


async def _user_input(sessions: SessionFactory, username: str = "alice") -> RegistrationInput:
    async with transaction(sessions) as session:
        credential = await auth.stash_credential(
            session=session, password_hash=auth.hash_password("pw123456")
        )
    return RegistrationInput(
        username=username,
        first_name="Алиса",
        last_name="Иванова",
        email=f"{username}@example.ru",
        phone="+79123456789",
        credential_id=credential,
    )


async def test_create_user_is_idempotent_and_a_clash_is_non_retryable(
    sessions: SessionFactory,
) -> None:
    env = ActivityEnvironment()
    activities = AuthActivities(sessions)
    data = await _user_input(sessions)

    first = await env.run(activities.create_user, data)
    retried = await env.run(activities.create_user, data)
    assert first == retried

    clash = await _user_input(sessions)  # same username, another registration
    with pytest.raises(ApplicationError) as caught:
        await env.run(activities.create_user, clash)
    assert caught.value.type == "AlreadyExistsError"
    assert caught.value.non_retryable
    assert caught.value.details == ({"username": "этот логин уже занят"},)


async def test_wallet_and_profile_steps_and_their_undo(sessions: SessionFactory) -> None:
    env = ActivityEnvironment()
    billing, payment = BillingActivities(sessions), PaymentActivities(sessions, FakeBankGateway())
    alice = CustomerInput(username="alice")

    wallet = await env.run(billing.open_wallet, alice)
    assert (await env.run(billing.open_wallet, alice)) == wallet
    assert (await env.run(payment.create_profile, alice)).id > 0

    assert (await env.run(billing.close_empty_wallet, alice)).changed
    assert not (await env.run(billing.close_empty_wallet, alice)).changed, "undo twice is harmless"
    assert (await env.run(payment.delete_profile, alice)).changed
    async with transaction(sessions) as session:
        assert (await session.exec(select(Wallet))).all() == []


async def test_welcome_mail_is_sent_once_however_often_the_step_runs(
    sessions: SessionFactory,
) -> None:
    env = ActivityEnvironment()
    mailer = RecordingMailer()
    notification = NotificationActivities(sessions, mailer, STORE_URL)
    await env.run(
        notification.create_account,
        NotificationAccountInput(username="alice", email="alice@example.ru", phone="+79123456789"),
    )
    mail = WelcomeMailInput(
        username="alice", first_name="Алиса", idempotency_key="registration-alice-welcome"
    )

    first = await env.run(notification.send_welcome_mail, mail)
    second = await env.run(notification.send_welcome_mail, mail)

    assert first.sent
    assert not first.already_sent
    assert second.already_sent
    assert second.message_id == first.message_id
    assert len(mailer.sent) == 1
    assert mailer.sent[0].to == "alice@example.ru"
    assert "alice" in mailer.sent[0].body
    assert f"{STORE_URL}/login" in mailer.sent[0].body


async def test_an_smtp_outage_fails_the_attempt_and_the_retry_delivers(
    sessions: SessionFactory,
) -> None:
    env = ActivityEnvironment()
    mailer = RecordingMailer(failures_left=1)
    notification = NotificationActivities(sessions, mailer, STORE_URL)
    await env.run(
        notification.create_account,
        NotificationAccountInput(username="bob", email="bob@example.ru", phone="+79123456780"),
    )
    mail = WelcomeMailInput(
        username="bob", first_name="Боб", idempotency_key="registration-bob-welcome"
    )

    with pytest.raises(ConnectionRefusedError):  # infrastructure: left to the retry policy
        await env.run(notification.send_welcome_mail, mail)
    async with transaction(sessions) as session:
        pending = (await session.exec(select(Notification))).one()
    assert pending.sent_at is None

    await env.run(notification.send_welcome_mail, mail)
    assert len(mailer.sent) == 1


async def test_welcome_mail_reaches_the_mailbox_over_real_smtp(
    sessions: SessionFactory, mail_emulator: MailEmulator
) -> None:
    env = ActivityEnvironment()
    mailer = SmtpMailer(
        host="127.0.0.1", port=mail_emulator.smtp_port, sender="Shopflow <noreply@shop.test>"
    )
    notification = NotificationActivities(sessions, mailer, STORE_URL)
    email = f"smtp-{id(sessions)}@example.ru"
    await env.run(
        notification.create_account,
        NotificationAccountInput(username="carol", email=email, phone="+79123456781"),
    )
    await env.run(
        notification.send_welcome_mail,
        WelcomeMailInput(username="carol", first_name="Кира", idempotency_key=f"welcome-{email}"),
    )
    received = mail_emulator.messages(to=email)
    assert [m["subject"] for m in received] == ["Добро пожаловать в Shopflow"]
    assert "Здравствуйте, Кира!" in received[0]["body"]


@pytest.fixture(scope="module")
def refusing_mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailEmulator]:
    """The real mail emulator process, refusing every recipient at refused.example for good
    (550) and at later.example for now (450)."""
    smtp_port, http_port = free_ports(2)
    emulator = MailEmulator(smtp_port=smtp_port, http_url=f"http://127.0.0.1:{http_port}")
    args = [
        *("--smtp-port", str(smtp_port), "--http-port", str(http_port)),
        *("--refuse-domain", "refused.example", "--defer-domain", "later.example"),
    ]
    with emulator_process(
        "emulators.mail",
        args,
        f"{emulator.http_url}/api/messages",
        tmp_path_factory.mktemp("refusing-mail"),
    ):
        yield emulator


async def _welcome_to(
    sessions: SessionFactory, server: MailEmulator, username: str, email: str
) -> tuple[ActivityEnvironment, NotificationActivities, WelcomeMailInput]:
    mailer = SmtpMailer(host="127.0.0.1", port=server.smtp_port, sender="noreply@shop.test")
    notification = NotificationActivities(sessions, mailer, STORE_URL)
    env = ActivityEnvironment()
    await env.run(
        notification.create_account,
        NotificationAccountInput(username=username, email=email, phone="+79123456782"),
    )
    mail = WelcomeMailInput(username=username, first_name="Дана", idempotency_key=f"w-{email}")
    return env, notification, mail


async def test_a_permanent_smtp_refusal_is_a_non_retryable_domain_error(
    sessions: SessionFactory, refusing_mail_server: MailEmulator
) -> None:
    email = f"dana-{id(sessions)}@refused.example"
    env, notification, mail = await _welcome_to(sessions, refusing_mail_server, "dana", email)

    with pytest.raises(ApplicationError) as caught:
        await env.run(notification.send_welcome_mail, mail)

    assert caught.value.type == "MailRejectedError"
    assert caught.value.non_retryable, "a 550 stays a 550: no day of retries"
    assert "550" in caught.value.message
    assert caught.value.details == ({"email": "адрес не принимает почту"},)
    async with transaction(sessions) as session:
        assert (await session.exec(select(Notification))).one().sent_at is None
    assert refusing_mail_server.messages(to=email) == []


async def test_a_temporary_smtp_refusal_is_left_to_the_retry_policy(
    sessions: SessionFactory, refusing_mail_server: MailEmulator
) -> None:
    email = f"egor-{id(sessions)}@later.example"
    env, notification, mail = await _welcome_to(sessions, refusing_mail_server, "egor", email)

    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:  # not a domain error
        await env.run(notification.send_welcome_mail, mail)
    assert [code for code, _ in caught.value.recipients.values()] == [450]


async def test_the_refusing_server_still_takes_other_domains(
    sessions: SessionFactory, refusing_mail_server: MailEmulator
) -> None:
    email = f"fedor-{id(sessions)}@example.ru"
    env, notification, mail = await _welcome_to(sessions, refusing_mail_server, "fedor", email)
    assert (await env.run(notification.send_welcome_mail, mail)).sent
    assert len(refusing_mail_server.messages(to=email)) == 1
