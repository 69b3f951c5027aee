"""The limit on wrong gift card activation codes (services/billing.py: activate_gift_card_limited)
on SQLite and PostgreSQL: wrong codes counted per shopper and per client address within a window
of a clock the test moves, a correct code refused while limited, correct, malformed and refused
tries not counted, old tries pruned, and 50 concurrent wrong guesses held to the limit."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from core.attempts import AttemptLimit
from core.db import SessionFactory, transaction
from core.errors import ConflictError, NotFoundError, TooManyAttemptsError, ValidationError
from core.timeutil import utcnow
from models.billing import ActivationAttempt, GiftCard
from services import billing
from tests.support.gift_cards import issue

LIMIT = AttemptLimit(per_subject=3, per_address=5, window=timedelta(minutes=15))
HOME, CAFE = "203.0.113.7", "198.51.100.20"
RACERS = 50
RACE_BOUND_S = 60.0


@dataclass
class Clock:
    """The service's clock, moved by the test (never slept on)."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def wrong_code(n: int) -> str:
    """A well-formed code no card has."""
    return billing.format_code(billing.issue_code(f"never-issued-{n}", "another-secret"))


@dataclass
class Tries:
    """Activation tries by a shopper from an address, on the test's clock and limit."""

    sessions: SessionFactory
    limit: AttemptLimit = LIMIT
    clock: Clock = field(default_factory=Clock)

    async def activate(self, code: str, username: str = "alice", address: str = HOME) -> GiftCard:
        return await billing.activate_gift_card_limited(
            sessions=self.sessions,
            username=username,
            address=address,
            code=code,
            limit=self.limit,
            clock=self.clock,
        )

    async def wrong(self, times: int, username: str = "alice", address: str = HOME) -> None:
        """`times` wrong codes, each still answered «not found»."""
        for n in range(times):
            with pytest.raises(NotFoundError):
                await self.activate(wrong_code(n), username, address)

    async def refused(self, code: str, username: str = "alice", address: str = HOME) -> int:
        """The try is refused by the limit; its Retry-After in seconds."""
        with pytest.raises(TooManyAttemptsError) as caught:
            await self.activate(code, username, address)
        assert caught.value.http_status == 429
        assert caught.value.message.startswith(
            "Слишком много неверных кодов. Попробуйте снова через"
        )
        return caught.value.retry_after_seconds


async def recorded(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        return (await session.exec(select(func.count()).select_from(ActivationAttempt))).one()


async def owner(sessions: SessionFactory, card_id: int) -> str | None:
    async with transaction(sessions) as session:
        card = await session.get(GiftCard, card_id)
    assert card is not None
    return card.owner_username


async def test_wrong_codes_up_to_the_limit_then_refused_saying_when(
    sessions: SessionFactory,
) -> None:
    tries = Tries(sessions)
    await tries.wrong(LIMIT.per_subject)
    with pytest.raises(TooManyAttemptsError) as caught:
        await tries.activate(wrong_code(99))
    assert caught.value.retry_after_seconds == 15 * 60
    assert caught.value.message == "Слишком много неверных кодов. Попробуйте снова через 15 мин."


async def test_a_correct_code_is_refused_while_limited(sessions: SessionFactory) -> None:
    card_id, code = await issue(sessions, 500_00)
    tries = Tries(sessions)
    await tries.wrong(LIMIT.per_subject)
    tries.clock.advance(minutes=1)
    assert await tries.refused(code) == 14 * 60
    assert await owner(sessions, card_id) is None, "the limit is no hint: the card stays unbound"


async def test_after_the_window_activation_works_again(sessions: SessionFactory) -> None:
    card_id, code = await issue(sessions, 500_00)
    tries = Tries(sessions)
    await tries.wrong(1)
    tries.clock.advance(minutes=5)
    await tries.wrong(LIMIT.per_subject - 1)
    tries.clock.advance(minutes=2)
    assert await tries.refused(code) == 8 * 60, "until the oldest wrong code leaves the window"
    for _ in range(5):  # refused tries do not count: they do not push the end further
        tries.clock.advance(minutes=1)
        await tries.refused(wrong_code(7))
    tries.clock.advance(minutes=3, seconds=1)  # 15 min 1 s after the first wrong code
    card = await tries.activate(code)
    assert (card.id, card.owner_username) == (card_id, "alice")


async def test_the_wait_lasts_until_both_limits_allow(sessions: SessionFactory) -> None:
    tries = Tries(sessions)
    await tries.wrong(2, username="bob")  # the address's first two
    tries.clock.advance(minutes=10)
    await tries.wrong(3)  # alice's limit, and the address's five
    assert await tries.refused(wrong_code(9)) == 15 * 60  # alice's own oldest
    assert await tries.refused(wrong_code(9), username="carol") == 5 * 60  # bob's oldest


async def test_another_shopper_from_another_address_is_not_limited(
    sessions: SessionFactory,
) -> None:
    card_id, code = await issue(sessions, 500_00)
    tries = Tries(sessions)
    await tries.wrong(LIMIT.per_subject)
    await tries.refused(wrong_code(8))
    card = await tries.activate(code, username="bob", address=CAFE)
    assert (card.id, card.owner_username) == (card_id, "bob")
    await tries.wrong(LIMIT.per_subject, username="bob", address=CAFE)


async def test_the_address_is_limited_whoever_guesses_from_it(sessions: SessionFactory) -> None:
    tries = Tries(sessions)
    await tries.wrong(2, username="bob")
    await tries.wrong(2, username="carol")
    await tries.wrong(LIMIT.per_address - 4, username="dave")
    await tries.refused(wrong_code(5), username="erin")  # a newcomer from the same address
    await tries.wrong(1, username="erin", address=CAFE)


async def test_the_shopper_limit_follows_the_shopper_to_any_address(
    sessions: SessionFactory,
) -> None:
    tries = Tries(sessions)
    await tries.wrong(LIMIT.per_subject - 1)
    await tries.wrong(1, address=CAFE)
    await tries.refused(wrong_code(5), address="192.0.2.1")


async def test_correct_and_malformed_codes_do_not_count(sessions: SessionFactory) -> None:
    _, code = await issue(sessions, 500_00)
    tries = Tries(sessions)
    for _ in range(LIMIT.per_address + 1):
        await tries.activate(code)  # again by the same shopper: a correct activation
        with pytest.raises(ValidationError):
            await tries.activate("ABCD-EFGH")
    assert await recorded(sessions) == 0
    await tries.wrong(LIMIT.per_subject)
    await tries.refused(code)


async def test_a_card_someone_else_activated_counts_as_wrong(sessions: SessionFactory) -> None:
    _, code = await issue(sessions, 500_00)
    tries = Tries(sessions)
    await tries.activate(code, username="bob", address=CAFE)
    for _ in range(LIMIT.per_subject):
        with pytest.raises(ConflictError):
            await tries.activate(code)
    await tries.refused(code)


async def test_old_tries_are_pruned_when_a_new_one_is_recorded(sessions: SessionFactory) -> None:
    tries = Tries(sessions)
    await tries.wrong(LIMIT.per_subject)
    await tries.wrong(2, username="bob", address=CAFE)
    assert await recorded(sessions) == LIMIT.per_subject + 2
    tries.clock.advance(minutes=16)
    await tries.wrong(1, username="carol", address="192.0.2.1")
    assert await recorded(sessions) == 1


async def test_concurrent_wrong_guesses_do_not_pass_the_limit(
    sessions: SessionFactory, backend: str
) -> None:
    """50 wrong codes at once by one shopper from one address (on PostgreSQL over up to 30 pooled
    connections). Guaranteed: at most `per_shopper` pass (404), the rest are refused (429), and a
    refused try leaves no record."""
    tries = Tries(
        sessions,
        limit=AttemptLimit(per_subject=5, per_address=20, window=timedelta(minutes=15)),
    )

    async def guess(n: int) -> str:
        try:
            await tries.activate(wrong_code(n))
        except (NotFoundError, TooManyAttemptsError) as exc:
            return exc.code
        return "activated"

    started = time.monotonic()
    async with asyncio.timeout(RACE_BOUND_S):
        outcomes = Counter(await asyncio.gather(*(guess(n) for n in range(RACERS))))
    took = time.monotonic() - started
    print(f"{backend}: {RACERS} concurrent wrong codes in {took:.2f} s: {dict(outcomes)}")
    passed = outcomes["NotFoundError"]
    assert passed <= tries.limit.per_subject, outcomes
    assert passed + outcomes["TooManyAttemptsError"] == RACERS, outcomes
    assert await recorded(sessions) == passed
    await tries.wrong(tries.limit.per_subject - passed)  # racers refused one another early only
    await tries.refused(wrong_code(RACERS))
