"""Inputs and outputs of the fulfilment workflow and its activities (workflows/fulfilment.py).

Standard library only, like models.payloads: workflows load this module inside Temporal's
sandbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from models.payloads import (
    LEGACY_QUEUES,
    DeliveryChoice,
    DeliveryKind,
    PaymentResult,
    Queues,
)

# Where a paid order is. A pickup order: PICKING → SENT_TO_PICKUP_POINT → AT_PICKUP_POINT →
# PICKED_UP; a courier order: PICKING → HANDED_TO_COURIER → OUT_FOR_DELIVERY → DELIVERED.
# RETURNED: not picked up in time; CANCELED: by the shopper or an operator, money refunded.
FulfilmentStage = Literal[
    "PICKING",
    "SENT_TO_PICKUP_POINT",
    "AT_PICKUP_POINT",
    "PICKED_UP",
    "HANDED_TO_COURIER",
    "OUT_FOR_DELIVERY",
    "DELIVERED",
    "RETURNED",
    "CANCELED",
]
FULFILMENT_NEXT: dict[FulfilmentStage, FulfilmentStage] = {
    "SENT_TO_PICKUP_POINT": "AT_PICKUP_POINT",
    "AT_PICKUP_POINT": "PICKED_UP",
    "HANDED_TO_COURIER": "OUT_FOR_DELIVERY",
    "OUT_FOR_DELIVERY": "DELIVERED",
}
FULFILMENT_ENDED: frozenset[FulfilmentStage] = frozenset(
    {"PICKED_UP", "DELIVERED", "RETURNED", "CANCELED"}
)
# Until the goods leave the store the shopper may cancel; an operator may until they arrive.
SHOPPER_MAY_CANCEL: frozenset[FulfilmentStage] = frozenset({"PICKING"})
OPERATOR_MAY_CANCEL: frozenset[FulfilmentStage] = frozenset(
    {"PICKING", "SENT_TO_PICKUP_POINT", "HANDED_TO_COURIER"}
)


@dataclass(frozen=True)
class FulfilmentInput:
    order_id: str
    username: str
    delivery: DeliveryChoice
    payment: PaymentResult  # what a cancellation or a return refunds
    pickup_days: int = 7  # how long the goods wait at the pickup point
    reminder_days: int = 3  # when the shopper is reminded of them
    queues: Queues = LEGACY_QUEUES


@dataclass(frozen=True)
class StageEvent:
    stage: FulfilmentStage
    at: str  # ISO timestamp (the workflow's time)
    by: str = ""  # the operator, "shopper", or "" for the store itself
    note: str = ""


@dataclass
class FulfilmentState:
    """What «Мои заказы» and the operators' area show; answered by the query and every Update."""

    order_id: str
    username: str
    kind: DeliveryKind
    stage: FulfilmentStage = "PICKING"
    timeline: list[StageEvent] = field(default_factory=list)
    slot: str = ""  # the courier's slot, HH:MM–HH:MM
    refunded: bool = False
    reason: str = ""


@dataclass(frozen=True)
class StageRequest:
    """An operator (or the courier company) moves the order on; `slot` when out for delivery."""

    stage: FulfilmentStage
    by: str
    slot: str = ""


@dataclass(frozen=True)
class CancelRequest:
    by: str  # "shopper" or an operator's username
    reason: str = ""


@dataclass(frozen=True)
class DeliveryNoticeInput:
    """Format 4 of the spec: how and when the shopper gets the order, as a notice."""

    order_id: str
    username: str
    stage: FulfilmentStage
    delivery: DeliveryChoice
    slot: str
    detail: str
    idempotency_key: str


@dataclass(frozen=True)
class CloseOrderInput:
    order_id: str
    status: Literal["COMPLETED", "CANCELED"]
    reason: str = ""
