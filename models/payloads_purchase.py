"""Inputs and outputs of the gift card purchase and wallet top-up workflows (workflows/purchase.py).

Standard library only, like models.payloads: workflows load this module inside Temporal's
sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from models.payloads import (
    LEGACY_QUEUES,
    PayMethod,
    PayMethodOrNone,
    Queues,
)

# A purchase's kind is the first part of its id (`giftcard-…`, `topup-…`) and its payment's purpose.
PurchaseKind = Literal["giftcard", "topup"]
PurchaseStep = Literal[
    "CHOOSING_PAYMENT", "PAYING", "AWAITING_BANK", "FULFILLING", "DONE", "FAILED", "EXPIRED"
]
PURCHASE_ENDED_STEPS: frozenset[PurchaseStep] = frozenset({"DONE", "FAILED", "EXPIRED"})
# How a purchase may be paid: a gift card is not bought with another gift card, and a wallet is
# not topped up from itself.
PURCHASE_METHODS: dict[PurchaseKind, frozenset[PayMethod]] = {
    "giftcard": frozenset({"BANK_CARD", "SBP", "WALLET"}),
    "topup": frozenset({"BANK_CARD", "SBP"}),
}


@dataclass(frozen=True)
class GiftCardOrder:
    """What the buyer filled in on «Купить подарочную карту»."""

    grantee_name: str
    grantee_email: str
    design: str  # one of models.billing.POSTCARDS


@dataclass(frozen=True)
class PurchaseInput:
    """A gift card bought for someone (`gift` set) or the buyer's wallet topped up."""

    purchase_id: str  # the workflow id: `{kind}-{uuid}`
    kind: PurchaseKind
    username: str
    amount_kopecks: int
    gift: GiftCardOrder | None = None
    idle_timeout_seconds: int = 30 * 60
    public_url: str = ""
    bank_wait_seconds: int = 15 * 60
    bank_poll_seconds: int = 20
    queues: Queues = LEGACY_QUEUES


@dataclass
class PurchaseState:
    """What the purchase page shows; answered by the `state` query and by every Update."""

    purchase_id: str
    kind: PurchaseKind
    username: str
    amount_kopecks: int
    step: PurchaseStep = "CHOOSING_PAYMENT"
    payment_attempts: int = 0
    payment_method: PayMethodOrNone = ""
    last_error: str = ""
    failure_reason: str = ""
    payment_url: str = ""
    grantee_name: str = ""
    grantee_email: str = ""
    design: str = ""  # the gift card's postcard
    gift_card_id: int | None = None  # never its code: that is only in the grantee's mail
    balance_after_kopecks: int | None = None  # the wallet after a top-up


@dataclass(frozen=True)
class IssueGiftCardInput:
    issue_key: str  # the purchase id: a replayed issue answers the same card
    amount_kopecks: int
    order: GiftCardOrder


@dataclass(frozen=True)
class GiftCardMailInput:
    """The grantee's mail: the code is derived from `issue_key` inside the activity."""

    issue_key: str
    gift_card_id: int
    buyer: str
    order: GiftCardOrder
    amount_kopecks: int
    idempotency_key: str
