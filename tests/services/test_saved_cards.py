"""payment's saved bank cards on SQLite and PostgreSQL: saved once per bank token, even by twins,
and nobody else's to see or delete."""

from __future__ import annotations

import asyncio

import pytest

from core.db import SessionFactory, transaction
from core.errors import NotFoundError
from models.payment import SavedCard
from services import payment

# --- saved bank cards ----------------------------------------------------------------------------


async def save(sessions: SessionFactory, username: str, token: str) -> SavedCard:
    async with transaction(sessions) as session:
        return await payment.save_card(
            session=session,
            username=username,
            bank_token=token,
            masked="411111******1111",
            expiry="12/30",
        )


async def test_saving_a_card_is_idempotent_per_bank_token(sessions: SessionFactory) -> None:
    first = await save(sessions, "alice", "tok-1")
    again = await save(sessions, "alice", "tok-1")
    other = await save(sessions, "alice", "tok-2")
    bobs = await save(sessions, "bob", "tok-1")

    assert again.id == first.id
    assert len({first.id, other.id, bobs.id}) == 3
    async with transaction(sessions) as session:
        cards = await payment.saved_cards(session=session, username="alice")
        assert [(c.id, c.bank_token, c.masked, c.expiry) for c in cards] == [
            (first.id, "tok-1", "411111******1111", "12/30"),
            (other.id, "tok-2", "411111******1111", "12/30"),
        ]
        assert first.id is not None
        got = await payment.get_saved_card(session=session, username="alice", card_id=first.id)
        assert got.bank_token == "tok-1"


async def test_concurrent_saves_of_one_token_keep_one_card(sessions: SessionFactory) -> None:
    ids = await asyncio.gather(*(save(sessions, "alice", "tok-1") for _ in range(4)))
    assert len({card.id for card in ids}) == 1
    async with transaction(sessions) as session:
        assert len(await payment.saved_cards(session=session, username="alice")) == 1


async def test_someone_elses_saved_card_is_not_found(sessions: SessionFactory) -> None:
    bobs = await save(sessions, "bob", "tok-b")
    mine = await save(sessions, "alice", "tok-a")
    assert bobs.id is not None
    assert mine.id is not None
    async with transaction(sessions) as session:
        with pytest.raises(NotFoundError):
            await payment.get_saved_card(session=session, username="alice", card_id=bobs.id)
        with pytest.raises(NotFoundError):
            await payment.delete_saved_card(session=session, username="alice", card_id=bobs.id)
        with pytest.raises(NotFoundError):
            await payment.delete_saved_card(session=session, username="alice", card_id=999_999)
    async with transaction(sessions) as session:
        await payment.delete_saved_card(session=session, username="alice", card_id=mine.id)
    async with transaction(sessions) as session:
        assert await payment.saved_cards(session=session, username="alice") == []
        assert [c.id for c in await payment.saved_cards(session=session, username="bob")] == [
            bobs.id
        ]
        with pytest.raises(NotFoundError):
            await payment.delete_saved_card(session=session, username="alice", card_id=mine.id)
