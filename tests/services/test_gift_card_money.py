"""billing gift card money on SQLite and PostgreSQL: debits and refunds once per key, a balance
that never goes below zero, whose card is whose, the operation log, forgetting an empty card."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from core.db import SessionFactory, transaction
from core.errors import ConflictError, InsufficientFundsError, NotFoundError, ValidationError
from models.billing import BillingTransaction, TransactionKind
from services import billing
from tests.support.gift_cards import card_balance, debit, issue, log_of, owned_card, refund

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
