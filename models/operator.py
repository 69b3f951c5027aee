"""operator tables and the JSON shapes of the operators' area: what each operator did to which
order (the audit log), and the orders with their live fulfilment stage."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field as Bounded
from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow
from models.base import NO_CONTROL_CHARS, CamelModel
from models.payloads_fulfilment import FulfilmentStage

ADVANCE = "ADVANCE"
CANCEL = "CANCEL"


class OperatorAction(SQLModel, table=True):
    """One move an operator made, written after the flow accepted it (never a refused one)."""

    __tablename__ = "operator_action"
    __table_args__ = (Index("ix_operator_action_order_id_at", "order_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    operator: str = Field(max_length=32, index=True)
    order_id: str = Field(max_length=36)
    action: str = Field(max_length=16)  # ADVANCE or CANCEL
    detail: str = Field(default="", max_length=500)  # the stage (and slot), or the reason
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AdvanceBody(CamelModel):
    """POST /operator/orders/{id}/advance body: the next stage; `slot` "HH:MM–HH:MM" when the
    order goes OUT_FOR_DELIVERY."""

    stage: FulfilmentStage
    slot: str = Bounded(default="", max_length=32, pattern=NO_CONTROL_CHARS)


class CancelBody(CamelModel):
    """POST /operator/orders/{id}/cancel body: why (the shopper is told)."""

    reason: str = Bounded(default="", max_length=400, pattern=NO_CONTROL_CHARS)


class StageEventPublic(CamelModel):
    stage: str
    at: str
    by: str
    note: str


class ActionPublic(CamelModel):
    operator: str
    action: str
    detail: str
    at: datetime


class OperatorOrderPublic(CamelModel):
    """An order as the operators see it: its fulfilment live from its workflow (`stage` empty
    when it has none: cancelled before payment, or not reachable now)."""

    order_id: str
    username: str
    status: str
    kind: str = ""
    stage: str = ""
    next_stage: str = ""
    may_cancel: bool = False
    slot: str = ""
    refunded: bool = False
    reason: str = ""


class OperatorOrdersPublic(CamelModel):
    orders: list[OperatorOrderPublic]


class OperatorOrderDetail(OperatorOrderPublic):
    timeline: list[StageEventPublic]
    actions: list[ActionPublic]
