"""billing gift cards on SQLite and PostgreSQL: issue (bounds, replay, twins) and activation
(malformed and unknown codes, binding once, two shoppers racing)."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.db import SessionFactory, transaction
from core.errors import ConflictError, NotFoundError, ValidationError
from models.billing import GiftCard
from services import billing
from tests.support.gift_cards import CROCKFORD, SECRET, activate, card_balance, issue, owned_card

# --- issue ---------------------------------------------------------------------------------------


async def test_issue_answers_an_unbound_card_and_a_crockford_code(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        card, code = await billing.issue_gift_card(
            session=session,
            amount_kopecks=1500_00,
            issue_key="giftcard-g1",
            secret=SECRET,
            recipient_name="Борис",
            recipient_email="boris@example.ru",
            design="birthday",
        )
    assert len(code) == billing.CODE_LENGTH == 16
    assert set(code) <= CROCKFORD
    assert code == billing.issue_code("giftcard-g1", SECRET), "derived from the key, not random"
    assert billing.format_code(code) == "-".join([code[:4], code[4:8], code[8:12], code[12:]])
    assert card.masked == f"•••• {code[-4:]}"
    assert (card.initial_kopecks, card.balance_kopecks) == (1500_00, 1500_00)
    assert card.owner_username is None
    assert card.activated_at is None
    assert (card.recipient_name, card.recipient_email, card.design) == (
        "Борис",
        "boris@example.ru",
        "birthday",
    )


async def test_issue_codes_differ_by_key_and_by_secret() -> None:
    codes = {billing.issue_code(f"giftcard-g{n}", SECRET) for n in range(200)}
    assert len(codes) == 200
    assert billing.issue_code("giftcard-g1", "another") != billing.issue_code("giftcard-g1", SECRET)


async def test_only_the_codes_sha256_is_stored(sessions: SessionFactory) -> None:
    card_id, code = await issue(sessions, 500_00)
    async with transaction(sessions) as session:
        conn = await session.connection()
        row = (
            (
                await conn.execute(
                    text("SELECT * FROM billing_gift_card WHERE id = :i"), {"i": card_id}
                )
            )
            .mappings()
            .one()
        )
    assert row["code_hash"] == hashlib.sha256(code.encode()).hexdigest()
    forms = {code, billing.format_code(code), code.lower(), code[:12]}
    for column, value in row.items():
        for form in forms:
            assert form not in str(value), f"{column} holds the code"


@pytest.mark.parametrize("kopecks", [0, -100, billing.MAX_GIFT_CARD_KOPECKS + 1])
async def test_issue_refuses_amounts_out_of_bounds(sessions: SessionFactory, kopecks: int) -> None:
    with pytest.raises(ValidationError) as caught:
        await issue(sessions, kopecks)
    assert "amount" in caught.value.fields
    async with transaction(sessions) as session:
        assert (await session.exec(select(GiftCard))).all() == []


async def test_issue_takes_the_bounds_themselves(sessions: SessionFactory) -> None:
    _, smallest = await issue(sessions, 1, key="gift-min")
    _, largest = await issue(sessions, billing.MAX_GIFT_CARD_KOPECKS, key="gift-max")
    assert smallest != largest


async def test_replayed_issue_answers_the_same_card_and_code_and_adds_no_money(
    sessions: SessionFactory,
) -> None:
    first = await issue(sessions, 700_00, key="giftcard-g7")
    again = await issue(sessions, 700_00, key="giftcard-g7")
    assert again == first
    assert await card_balance(sessions, first[0]) == 700_00
    with pytest.raises(ConflictError):
        await issue(sessions, 800_00, key="giftcard-g7")
    async with transaction(sessions) as session:
        cards = (await session.exec(select(GiftCard))).all()
    assert [(c.id, c.balance_kopecks) for c in cards] == [(first[0], 700_00)]


async def test_concurrent_twin_issues_make_one_card(sessions: SessionFactory) -> None:
    async def twin() -> tuple[int, str] | str:
        try:
            return await issue(sessions, 300_00, key="giftcard-twin")
        except ConflictError:
            return "retry"

    outcomes = await asyncio.gather(*(twin() for _ in range(5)))
    cards = {o for o in outcomes if not isinstance(o, str)}
    assert len(cards) == 1
    async with transaction(sessions) as session:
        assert len((await session.exec(select(GiftCard))).all()) == 1
    # The loser of a race is told to retry; its retry answers the winner's card.
    assert await issue(sessions, 300_00, key="giftcard-twin") in cards


# --- activation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["", "ABCD", "ABCD-EFGH-2345-678", "ABCD-EFGH-2345-67890", "ABCD-EFGH-2345-678U", "АБВГ" * 4],
)
async def test_activation_refuses_malformed_codes(sessions: SessionFactory, typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        await activate(sessions, "alice", typed)
    assert "activationCode" in caught.value.fields


def test_codes_are_read_the_way_people_type_them() -> None:
    assert billing.normalize_code(" abcd efgh-2345 -6789\t") == "ABCDEFGH23456789"
    # Crockford: O reads as zero, I and L as one.
    assert billing.normalize_code("oIL3-4567-89ab-cdef") == "0113456789ABCDEF"


async def test_activation_binds_the_card_once(sessions: SessionFactory) -> None:
    card_id, code = await issue(sessions, 1000_00)
    typed = " " + billing.format_code(code).lower().replace("-", " - ") + " "

    first = await activate(sessions, "alice", typed)
    again = await activate(sessions, "alice", code)

    assert first.id == again.id == card_id
    assert first.owner_username == "alice"
    assert first.activated_at is not None
    assert again.activated_at == first.activated_at
    assert first.balance_kopecks == 1000_00
    with pytest.raises(ConflictError):
        await activate(sessions, "bob", code)
    async with transaction(sessions) as session:
        assert [c.id for c in await billing.gift_cards(session=session, username="alice")] == [
            card_id
        ]
        assert await billing.gift_cards(session=session, username="bob") == []


async def test_unknown_code_is_not_found(sessions: SessionFactory) -> None:
    await issue(sessions, 1000_00)
    with pytest.raises(NotFoundError) as caught:
        await activate(sessions, "alice", billing.issue_code("never-issued", SECRET))
    assert "activationCode" in caught.value.fields


async def test_concurrent_activations_by_two_shoppers_bind_to_one(
    sessions: SessionFactory,
) -> None:
    card_id, code = await issue(sessions, 1000_00)

    async def claim(username: str) -> str:
        try:
            await activate(sessions, username, code)
        except ConflictError:
            return "taken"
        return username

    outcomes = await asyncio.gather(*(claim(name) for name in ["alice", "bob"] * 3))
    winners = {o for o in outcomes if o != "taken"}
    assert len(winners) == 1
    (winner,) = winners
    assert outcomes.count("taken") == 3
    async with transaction(sessions) as session:
        card = await session.get(GiftCard, card_id)
    assert card is not None
    assert card.owner_username == winner


async def test_gift_cards_are_listed_oldest_first(sessions: SessionFactory) -> None:
    first = await owned_card(sessions, 100_00)
    second = await owned_card(sessions, 200_00)
    await owned_card(sessions, 300_00, username="bob")
    async with transaction(sessions) as session:
        cards = await billing.gift_cards(session=session, username="alice")
        assert [c.id for c in cards] == [first, second]
        assert (
            await billing.get_gift_card(session=session, username="alice", gift_card_id=first)
        ).id == first
