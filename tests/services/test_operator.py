"""The operators' area in the services: the role granted by auth, the audit log of the operators'
moves, and the orders the operators see (PAID, COMPLETED, CANCELED; newest first), on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import SessionFactory, transaction
from core.errors import NotFoundError
from core.timeutil import utcnow
from models.auth import OPERATOR, SHOPPER
from models.operator import ADVANCE, CANCEL
from models.order import Order, OrderStatus
from services import auth, operator, order
from tests.support.users import add_user


async def test_a_user_is_a_shopper_until_granted_the_operator_role(
    sessions: SessionFactory,
) -> None:
    await add_user(sessions, "oleg")
    async with transaction(sessions) as session:
        assert (await auth.get_user(session=session, username="oleg")).role == SHOPPER
    async with transaction(sessions) as session:
        granted = await auth.grant_operator(session=session, username="oleg")
    assert granted.role == OPERATOR
    async with transaction(sessions) as session:
        assert (await auth.get_user(session=session, username="oleg")).role == OPERATOR
        again = await auth.grant_operator(session=session, username="oleg")  # idempotent
    assert again.role == OPERATOR


async def test_granting_an_unknown_login_is_not_found(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        with pytest.raises(NotFoundError):
            await auth.grant_operator(session=session, username="nobody")


async def test_the_audit_log_keeps_each_move_of_the_order_in_order(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await operator.record_action(
            session=session, operator="oleg", order_id="o-1", action=ADVANCE, detail="A"
        )
        await operator.record_action(
            session=session, operator="ivan", order_id="o-2", action=ADVANCE, detail="other"
        )
        await operator.record_action(
            session=session, operator="ivan", order_id="o-1", action=CANCEL, detail="x" * 600
        )
    async with transaction(sessions) as session:
        moves = await operator.actions_of(session=session, order_id="o-1")
        assert await operator.actions_of(session=session, order_id="o-3") == []
    assert [(m.operator, m.action) for m in moves] == [("oleg", ADVANCE), ("ivan", CANCEL)]
    assert moves[0].detail == "A"
    assert len(moves[1].detail) == 500  # cut to the column, not refused
    assert moves[0].at <= moves[1].at


async def test_operators_see_paid_completed_and_cancelled_orders_newest_first(
    sessions: SessionFactory,
) -> None:
    start = utcnow() - timedelta(hours=1)
    statuses = list(OrderStatus)
    async with transaction(sessions) as session:
        for n, status in enumerate(statuses):
            session.add(
                Order(
                    id=f"op-{n}",
                    username=f"buyer{n}",
                    status=status,
                    created_at=start + timedelta(minutes=n),
                )
            )
    seen = {OrderStatus.PAID, OrderStatus.COMPLETED, OrderStatus.CANCELED}
    newest_first = [f"op-{n}" for n, s in reversed(list(enumerate(statuses))) if s in seen]
    async with transaction(sessions) as session:
        everything = await order.paid_orders(session=session, limit=50)
        first = await order.paid_orders(session=session, limit=2)
        rest = await order.paid_orders(session=session, limit=2, offset=2)
    assert [o.id for o in everything] == newest_first
    assert [o.id for o in first + rest] == newest_first
