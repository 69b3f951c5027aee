"""billing gift cards and payment's saved bank cards on SQLite and PostgreSQL: issue, activation,
debits and refunds once per key, a balance that never goes below zero, and whose card is whose."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.db import SessionFactory, transaction
from core.errors import ConflictError, InsufficientFundsError, NotFoundError, ValidationError
from models.billing import BillingTransaction, GiftCard, TransactionKind
from models.payment import SavedCard
from services import billing, payment

SECRET = "test-gift-card-secret"
CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


async def issue(sessions: SessionFactory, kopecks: int, key: str = "gift-1") -> tuple[int, str]:
    async with transaction(sessions) as session:
        card, code = await billing.issue_gift_card(
            session=session, amount_kopecks=kopecks, issue_key=key, secret=SECRET
        )
    assert card.id is not None
    return card.id, code


async def activate(sessions: SessionFactory, username: str, code: str) -> GiftCard:
    async with transaction(sessions) as session:
        return await billing.activate_gift_card(session=session, username=username, code=code)


async def owned_card(sessions: SessionFactory, kopecks: int, username: str = "alice") -> int:
    """An issued gift card activated by `username`."""
    card_id, code = await issue(sessions, kopecks, key=f"gift-{username}-{kopecks}")
    await activate(sessions, username, code)
    return card_id


async def card_balance(sessions: SessionFactory, card_id: int) -> int:
    async with transaction(sessions) as session:
        card = await session.get(GiftCard, card_id)
    assert card is not None
    return card.balance_kopecks


async def log_of(sessions: SessionFactory, card_id: int) -> list[tuple[str, int, int]]:
    async with transaction(sessions) as session:
        found = await session.exec(
            select(BillingTransaction)
            .where(BillingTransaction.gift_card_id == card_id)
            .order_by(BillingTransaction.id)  # type: ignore[arg-type]
        )
        return [(e.kind.value, e.amount_kopecks, e.balance_after_kopecks) for e in found.all()]


async def debit(
    sessions: SessionFactory,
    card_id: int,
    kopecks: int,
    key: str,
    username: str = "alice",
    *,
    refund: bool = False,
) -> BillingTransaction:
    async with transaction(sessions) as session:
        return await billing.debit_gift_card(
            session=session,
            username=username,
            gift_card_id=card_id,
            amount_kopecks=kopecks,
            idempotency_key=key,
            reference="order:o1",
            refund=refund,
        )


async def refund(
    sessions: SessionFactory, card_id: int, kopecks: int, key: str, username: str = "alice"
) -> BillingTransaction:
    return await debit(sessions, card_id, kopecks, key, username, refund=True)


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


# --- debits and refunds --------------------------------------------------------------------------


async def test_debit_and_refund_move_money_once_per_key(sessions: SessionFactory) -> None:
    card_id = await owned_card(sessions, 1000_00)

    paid = await debit(sessions, card_id, 300_00, "payment-order-o1-1")
    again = await debit(sessions, card_id, 300_00, "payment-order-o1-1")
    assert again.id == paid.id
    assert paid.balance_after_kopecks == 700_00
    assert paid.gift_card_id == card_id
    assert paid.wallet_id is None
    assert paid.kind is TransactionKind.DEBIT

    back = await refund(sessions, card_id, 300_00, "refund-order-o1-1")
    back_again = await refund(sessions, card_id, 300_00, "refund-order-o1-1")
    assert back_again.id == back.id
    assert back.kind is TransactionKind.REFUND

    assert await card_balance(sessions, card_id) == 1000_00
    assert await log_of(sessions, card_id) == [
        ("DEBIT", 300_00, 700_00),
        ("REFUND", 300_00, 1000_00),
    ]


async def test_concurrent_twin_debits_with_one_key_move_money_once(
    sessions: SessionFactory,
) -> None:
    card_id = await owned_card(sessions, 1000_00)

    async def twin() -> int | str:
        try:
            entry = await debit(sessions, card_id, 100_00, "payment-order-o1-1")
        except ConflictError:
            return "retry"
        assert entry.id is not None
        return entry.id

    outcomes = await asyncio.gather(*(twin() for _ in range(6)))
    assert len({o for o in outcomes if o != "retry"}) == 1
    assert await card_balance(sessions, card_id) == 900_00
    assert await log_of(sessions, card_id) == [("DEBIT", 100_00, 900_00)]


async def test_debit_beyond_the_balance_moves_nothing(sessions: SessionFactory) -> None:
    card_id = await owned_card(sessions, 100_00)
    await debit(sessions, card_id, 60_00, "k1")

    with pytest.raises(InsufficientFundsError) as caught:
        await debit(sessions, card_id, 40_01, "k2")
    assert "подарочной карте" in caught.value.message

    assert await card_balance(sessions, card_id) == 40_00
    assert await log_of(sessions, card_id) == [("DEBIT", 60_00, 40_00)]
    # The refused key was not used up: the same key with a payable amount goes through.
    assert (await debit(sessions, card_id, 40_00, "k2")).balance_after_kopecks == 0


@pytest.mark.parametrize("kopecks", [0, -1])
async def test_non_positive_amounts_are_refused(sessions: SessionFactory, kopecks: int) -> None:
    card_id = await owned_card(sessions, 100_00)
    with pytest.raises(ValidationError):
        await debit(sessions, card_id, kopecks, "k1")
    with pytest.raises(ValidationError):
        await refund(sessions, card_id, kopecks, "k2")
    assert await card_balance(sessions, card_id) == 100_00
    assert await log_of(sessions, card_id) == []


async def test_a_card_that_is_not_yours_is_not_found(sessions: SessionFactory) -> None:
    bobs = await owned_card(sessions, 500_00, username="bob")
    unbound, _ = await issue(sessions, 500_00, key="gift-unbound")

    for card_id in (bobs, unbound, 999_999):
        with pytest.raises(NotFoundError):
            await debit(sessions, card_id, 100_00, f"steal-{card_id}")
        with pytest.raises(NotFoundError):
            await refund(sessions, card_id, 100_00, f"gift-{card_id}")
        async with transaction(sessions) as session:
            with pytest.raises(NotFoundError):
                await billing.get_gift_card(session=session, username="alice", gift_card_id=card_id)
            with pytest.raises(NotFoundError):
                await billing.forget_gift_card(
                    session=session, username="alice", gift_card_id=card_id
                )
    assert await card_balance(sessions, bobs) == 500_00
    assert await card_balance(sessions, unbound) == 500_00
    assert await log_of(sessions, bobs) == [] == await log_of(sessions, unbound)


async def test_twenty_concurrent_debits_never_overdraw_a_gift_card(
    sessions: SessionFactory, backend: str
) -> None:
    """1000 ₽ and twenty debits of 100 ₽, each in its own transaction. On PostgreSQL all twenty
    transactions are open (card read) before any of them debits, so they really race."""
    card_id = await owned_card(sessions, 1000_00)
    # SQLite's pool is smaller than twenty; its writers serialize on the database lock anyway.
    barrier = asyncio.Barrier(20) if backend == "postgres" else None

    async def pay(n: int) -> str:
        try:
            async with transaction(sessions) as session:
                await billing.get_gift_card(session=session, username="alice", gift_card_id=card_id)
                if barrier is not None:
                    await barrier.wait()
                await billing.debit_gift_card(
                    session=session,
                    username="alice",
                    gift_card_id=card_id,
                    amount_kopecks=100_00,
                    idempotency_key=f"payment-order-o{n}-1",
                    reference=f"order:o{n}",
                )
        except InsufficientFundsError:
            return "declined"
        return "paid"

    outcomes = await asyncio.wait_for(asyncio.gather(*(pay(n) for n in range(20))), timeout=60)

    assert outcomes.count("paid") == 10
    assert outcomes.count("declined") == 10
    assert await card_balance(sessions, card_id) == 0
    log = await log_of(sessions, card_id)
    assert len(log) == 10
    assert sorted(after for _, _, after in log) == [n * 100_00 for n in range(10)]


async def test_transactions_list_the_wallet_and_gift_cards_oldest_first(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        for name in ("alice", "bob"):
            await billing.open_wallet(session=session, username=name)
            await billing.credit_wallet(
                session=session,
                username=name,
                amount_kopecks=50_00,
                idempotency_key=f"topup-{name}",
                reference="topup",
            )
    card_id = await owned_card(sessions, 200_00)
    bobs = await owned_card(sessions, 200_00, username="bob")
    await debit(sessions, card_id, 20_00, "alice-gift")
    await debit(sessions, bobs, 20_00, "bob-gift", username="bob")
    async with transaction(sessions) as session:
        await billing.debit_wallet(
            session=session,
            username="alice",
            amount_kopecks=10_00,
            idempotency_key="alice-wallet",
            reference="order:o2",
        )
        log = await billing.transactions(session=session, username="alice")
        newest = await billing.transactions(session=session, username="alice", limit=2)

    assert [(e.idempotency_key, e.gift_card_id is not None) for e in log] == [
        ("topup-alice", False),
        ("alice-gift", True),
        ("alice-wallet", False),
    ]
    assert [e.idempotency_key for e in newest] == ["alice-gift", "alice-wallet"]


async def test_transactions_of_a_shopper_without_a_wallet_is_not_found(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        with pytest.raises(NotFoundError):
            await billing.transactions(session=session, username="nobody")


async def test_a_card_is_forgotten_only_once_empty(sessions: SessionFactory) -> None:
    card_id = await owned_card(sessions, 100_00)
    async with transaction(sessions) as session:
        with pytest.raises(ConflictError):
            await billing.forget_gift_card(session=session, username="alice", gift_card_id=card_id)
    assert await card_balance(sessions, card_id) == 100_00

    await debit(sessions, card_id, 100_00, "k1")
    async with transaction(sessions) as session:
        await billing.forget_gift_card(session=session, username="alice", gift_card_id=card_id)
    async with transaction(sessions) as session:
        assert await billing.gift_cards(session=session, username="alice") == []
        with pytest.raises(NotFoundError):
            await billing.get_gift_card(session=session, username="alice", gift_card_id=card_id)
    assert await log_of(sessions, card_id) == [("DEBIT", 100_00, 0)], "the log is kept"

    # A payment made with it and undone later still comes back to it.
    await refund(sessions, card_id, 100_00, "refund-k1")
    assert await card_balance(sessions, card_id) == 100_00
    async with transaction(sessions) as session:
        await billing.open_wallet(session=session, username="alice")
    async with transaction(sessions) as session:
        log = await billing.transactions(session=session, username="alice")
    assert [(e.kind.value, e.gift_card_id) for e in log][-2:] == [
        ("DEBIT", card_id),
        ("REFUND", card_id),
    ], "its entries stay in the shopper's log"


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


async def test_a_key_reused_for_another_operation_is_a_conflict(sessions: SessionFactory) -> None:
    card_id = await owned_card(sessions, 1000_00)
    bobs = await owned_card(sessions, 1000_00, username="bob")
    await debit(sessions, card_id, 100_00, "payment-order-o1-1")

    reuses: list[Callable[[], Awaitable[BillingTransaction]]] = [
        lambda: debit(sessions, card_id, 300_00, "payment-order-o1-1"),  # another amount
        lambda: refund(sessions, card_id, 100_00, "payment-order-o1-1"),  # another kind
        lambda: debit(sessions, bobs, 100_00, "payment-order-o1-1", username="bob"),  # card
    ]
    outcomes = []
    for reuse in reuses:
        try:
            await reuse()
        except ConflictError:
            outcomes.append("conflict")
        else:
            outcomes.append("answered the first transaction")
    assert outcomes == ["conflict"] * 3
    assert await card_balance(sessions, card_id) == 900_00
