"""billing wallets, payment profiles and notification accounts on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update
from sqlmodel import select

from core.db import SessionFactory, transaction
from core.errors import NotFoundError
from models.billing import Wallet
from models.notification import ChannelKind, Notification
from models.payment import PaymentProfile
from services import billing, notification, payment


async def test_wallet_opens_once_with_zero_balance_even_when_retried_concurrently(
    sessions: SessionFactory,
) -> None:
    async def open_once() -> int:
        async with transaction(sessions) as session:
            wallet = await billing.open_wallet(session=session, username="alice")
            assert wallet.id is not None
            return wallet.id

    ids = await asyncio.gather(*(open_once() for _ in range(4)))
    async with transaction(sessions) as session:
        wallets = (await session.exec(select(Wallet))).all()
    assert len(set(ids)) == 1
    assert [(w.username, w.balance_kopecks) for w in wallets] == [("alice", 0)]


async def test_closing_a_wallet_never_destroys_money(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await billing.open_wallet(session=session, username="alice")
        await session.exec(update(Wallet).values(balance_kopecks=100))
    async with transaction(sessions) as session:
        assert not await billing.close_empty_wallet(session=session, username="alice")
        assert (await billing.get_wallet(session=session, username="alice")).balance_kopecks == 100
        await session.exec(update(Wallet).values(balance_kopecks=0))
        assert await billing.close_empty_wallet(session=session, username="alice")
        with pytest.raises(NotFoundError):
            await billing.get_wallet(session=session, username="alice")


async def test_payment_profile_is_idempotent_and_removable(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        first = await payment.create_profile(session=session, username="alice")
        second = await payment.create_profile(session=session, username="alice")
        assert first.id == second.id
        assert await payment.delete_profile(session=session, username="alice")
        assert (await session.exec(select(PaymentProfile))).all() == []


async def test_notification_account_records_email_sms_and_push_channels(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await notification.create_account(
            session=session, username="alice", email="alice@example.ru", phone="+79123456789"
        )
        # A retry with a corrected address updates the channel rather than adding another.
        await notification.create_account(
            session=session, username="alice", email="alice@example.com", phone="+79123456789"
        )
        channels = await notification.get_channels(session=session, username="alice")
        address = await notification.email_address(session=session, username="alice")
    assert {c.kind: c.address for c in channels} == {
        ChannelKind.EMAIL: "alice@example.com",
        ChannelKind.SMS: "+79123456789",
        ChannelKind.PUSH: "alice",
    }
    assert address == "alice@example.com"


async def test_a_mail_is_recorded_once_per_idempotency_key(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await notification.create_account(
            session=session, username="alice", email="alice@example.ru", phone="+79123456789"
        )
        first = await notification.record_email(
            session=session, idempotency_key="k1", username="alice", subject="S", body="B"
        )
        assert first.id is not None
        await notification.mark_sent(session=session, notification_id=first.id)
    async with transaction(sessions) as session:
        again = await notification.record_email(
            session=session, idempotency_key="k1", username="alice", subject="other", body="other"
        )
        rows = (await session.exec(select(Notification))).all()
    assert again.id == first.id
    assert again.sent_at is not None
    assert again.subject == "S"
    assert len(rows) == 1


async def test_mail_to_a_customer_without_account_is_refused(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        with pytest.raises(NotFoundError):
            await notification.record_email(
                session=session, idempotency_key="k", username="ghost", subject="S", body="B"
            )


async def test_deleting_an_account_removes_its_channels(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await notification.create_account(
            session=session, username="alice", email="alice@example.ru", phone="+79123456789"
        )
        assert await notification.delete_account(session=session, username="alice")
        assert not await notification.delete_account(session=session, username="alice")
        with pytest.raises(NotFoundError):
            await notification.get_channels(session=session, username="alice")
