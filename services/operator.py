"""operator: the audit log of the operators' area — who moved or cancelled which order, when and
how. A row is written only after the order's flow accepted the move."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.operator import OperatorAction


async def record_action(
    *, session: AsyncSession, operator: str, order_id: str, action: str, detail: str = ""
) -> OperatorAction:
    """Log one accepted move of `operator` on the order."""
    row = OperatorAction(operator=operator, order_id=order_id, action=action, detail=detail[:500])
    session.add(row)
    await session.flush()
    return row


async def actions_of(*, session: AsyncSession, order_id: str) -> list[OperatorAction]:
    """The operators' moves on the order, oldest first."""
    rows = await session.exec(
        select(OperatorAction)
        .where(OperatorAction.order_id == order_id)
        .order_by(col(OperatorAction.at), col(OperatorAction.id))
    )
    return list(rows.all())
