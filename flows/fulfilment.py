"""A paid order's fulfilment as the edge reaches it: its stage and timeline for the shopper («Мои
заказы») and the operators, the operators' moves, and cancel-and-refund — each call checking
whose order it is (the shopper's own; an operator's any)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TypeVar

from core.db import SessionFactory, transaction
from core.errors import DomainError, NotFoundError
from core.settings import Settings
from flows.engine import EngineError, TemporalClient, query, update
from models.operator import (
    ADVANCE,
    CANCEL,
    ActionPublic,
    OperatorOrderDetail,
    OperatorOrderPublic,
    StageEventPublic,
)
from models.payloads_fulfilment import (
    FULFILMENT_NEXT,
    OPERATOR_MAY_CANCEL,
    CancelRequest,
    FulfilmentStage,
    FulfilmentState,
    StageRequest,
)
from services import operator as audit
from services import order
from workflows.refs import Fulfilment, UpdateRef

In = TypeVar("In")
SHOPPER = "shopper"
ENDED = "Заказ уже завершён"


def workflow_id(order_id: str) -> str:
    return f"delivery-{order_id}"


@dataclass(frozen=True)
class Fulfilments:
    sessions: SessionFactory
    temporal: TemporalClient
    settings: Settings

    async def state(self, order_id: str, *, username: str | None) -> FulfilmentState | None:
        """The order's fulfilment (None before it is paid); `username`: the shopper's own only
        (404 for anyone else's), None for an operator."""
        if username is not None:
            async with transaction(self.sessions) as session:
                await order.get_order(session=session, username=username, order_id=order_id)
        return await query(
            self.temporal,
            workflow_id(order_id),
            Fulfilment.state,
            self.settings.update_wait_seconds,
        )

    async def advance(
        self, order_id: str, stage: FulfilmentStage, *, operator: str, slot: str = ""
    ) -> FulfilmentState:
        """An operator moves the order on (the next stage only)."""
        return await self._update(order_id, Fulfilment.advance, StageRequest(stage, operator, slot))

    async def cancel(
        self, order_id: str, *, username: str | None, operator: str = "", reason: str = ""
    ) -> FulfilmentState:
        """Cancel and refund: by the shopper while it is picked, by an operator until it has
        arrived."""
        if username is not None:
            await self.state(order_id, username=username)  # the shopper's own, or 404
        by = SHOPPER if username is not None else operator
        return await self._update(order_id, Fulfilment.cancel, CancelRequest(by, reason))

    async def _update(
        self, order_id: str, ref: UpdateRef[In, FulfilmentState], arg: In
    ) -> FulfilmentState:
        if await self.state(order_id, username=None) is None:
            raise NotFoundError("Заказ ещё не оплачен или не найден")
        return await update(
            self.temporal,
            workflow_id(order_id),
            ref,
            arg,
            seconds=self.settings.update_wait_seconds,
            ended=ENDED,
        )


# --- the operators' area (added; the moves above stay as they are) -------------------------------

FIRST_MOVE: dict[str, FulfilmentStage] = {
    "PICKUP": "SENT_TO_PICKUP_POINT",
    "COURIER": "HANDED_TO_COURIER",
}


def next_stage(state: FulfilmentState) -> FulfilmentStage | None:
    """The one stage the order may move to now (as the workflow's validator checks it), or None
    once it has ended."""
    if state.stage == "PICKING":
        return FIRST_MOVE.get(state.kind)
    return FULFILMENT_NEXT.get(state.stage)


def operator_may_cancel(state: FulfilmentState) -> bool:
    return state.stage in OPERATOR_MAY_CANCEL


async def states_of(
    fulfilments: Fulfilments, order_ids: Sequence[str]
) -> list[FulfilmentState | None]:
    """Each order's live fulfilment, queried at once; None for an order without one (cancelled
    before payment) or whose run does not answer now (the list still shows the order)."""

    async def one(order_id: str) -> FulfilmentState | None:
        try:
            return await fulfilments.state(order_id, username=None)
        except (DomainError, EngineError):
            return None

    return list(await asyncio.gather(*(one(order_id) for order_id in order_ids)))


def desk_view(
    order_id: str, username: str, status: str, state: FulfilmentState | None
) -> OperatorOrderPublic:
    """An order as the operators' list shows it, with its live stage and what may be done."""
    if state is None:
        return OperatorOrderPublic(order_id=order_id, username=username, status=status)
    return OperatorOrderPublic(
        order_id=order_id,
        username=username,
        status=status,
        kind=state.kind,
        stage=state.stage,
        next_stage=next_stage(state) or "",
        may_cancel=operator_may_cancel(state),
        slot=state.slot,
        refunded=state.refunded,
        reason=state.reason,
    )


async def desk_orders(
    fulfilments: Fulfilments, *, limit: int, offset: int = 0
) -> list[OperatorOrderPublic]:
    """The orders the operators work with, newest first, each with its live stage."""
    async with transaction(fulfilments.sessions) as session:
        orders = await order.paid_orders(session=session, limit=limit, offset=offset)
    states = await states_of(fulfilments, [row.id for row in orders])
    return [
        desk_view(row.id, row.username, row.status, state)
        for row, state in zip(orders, states, strict=True)
    ]


async def desk_order(fulfilments: Fulfilments, order_id: str) -> OperatorOrderDetail:
    """One order for an operator: its stage, timeline and the operators' moves (404 when it has
    no fulfilment)."""
    state = await fulfilments.state(order_id, username=None)
    if state is None:
        raise NotFoundError("Заказ ещё не оплачен или не найден")
    async with transaction(fulfilments.sessions) as session:
        view = await order.get_order(session=session, username=state.username, order_id=order_id)
        actions = await audit.actions_of(session=session, order_id=order_id)
    listed = desk_view(order_id, state.username, view.order.status, state)
    return OperatorOrderDetail(
        **listed.model_dump(),
        timeline=[StageEventPublic(**asdict(event)) for event in state.timeline],
        actions=[ActionPublic.model_validate(row, from_attributes=True) for row in actions],
    )


async def operator_advance(
    fulfilments: Fulfilments, order_id: str, stage: FulfilmentStage, *, operator: str, slot: str
) -> FulfilmentState:
    """An operator's move, logged once the flow accepted it (a refusal raises, logs nothing)."""
    state = await fulfilments.advance(order_id, stage, operator=operator, slot=slot)
    detail = f"{stage} {slot}".strip()
    await _log(fulfilments, operator, order_id, ADVANCE, detail)
    return state


async def operator_cancel(
    fulfilments: Fulfilments, order_id: str, *, operator: str, reason: str
) -> FulfilmentState:
    """An operator's cancel-and-refund, logged once the flow accepted it."""
    state = await fulfilments.cancel(order_id, username=None, operator=operator, reason=reason)
    await _log(fulfilments, operator, order_id, CANCEL, reason)
    return state


async def _log(
    fulfilments: Fulfilments, operator: str, order_id: str, action: str, detail: str
) -> None:
    async with transaction(fulfilments.sessions) as session:
        await audit.record_action(
            session=session, operator=operator, order_id=order_id, action=action, detail=detail
        )
