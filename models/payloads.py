"""Inputs and outputs of workflows and activities: one dataclass in, one dataclass out.

Standard library only: workflows load this module inside Temporal's sandbox. Adding a field with a
default never breaks the history of a running workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args

# The enumerated values of the payloads below. Literal, not Enum: histories hold these strings,
# and the data converter checks a value against its Literal when it decodes one.
CheckoutStep = Literal[
    "HOLDING",
    "CHOOSING_DELIVERY",
    "PAYING",
    "AWAITING_BANK",
    "CONFIRMING",
    "PAID",
    "FAILED",
    "EXPIRED",
    "BACK_TO_CART",
]
# A checkout in one of these has ended: paid, failed, expired or given back to the cart.
ENDED_STEPS: frozenset[CheckoutStep] = frozenset({"PAID", "FAILED", "EXPIRED", "BACK_TO_CART"})
DeliveryKind = Literal["COURIER", "PICKUP"]
# How the shopper pays; "" while no payment was tried.
PayMethod = Literal["WALLET", "BANK_CARD", "SBP", "GIFT_CARD"]
PayMethodOrNone = PayMethod | Literal[""]
PaymentPurpose = Literal["order", "giftcard", "topup"]
# A payment attempt's outcome; REFUNDED for a late bank payment given back.
PaymentStatus = Literal["PAID", "DECLINED", "REFUNDED"]
# The bank's names for its payment methods and states.
BankMethod = Literal["CARD", "SBP"]
BankStatus = Literal["PENDING", "SUCCEEDED", "DECLINED", "REFUNDED", "PARTIALLY_REFUNDED"]
# What the order becomes when its checkout ends (NEW: back in the cart).
FinishStatus = Literal["PAID", "FAILED", "NEW"]
# The spec's Format 2 (ORDER outcome), Format 3 (PAYMENT attempt), and a late refund's notice.
MailKind = Literal["ORDER", "PAYMENT", "REFUND"]


def bank_status(value: str) -> BankStatus:
    """A status the bank sent, checked: ValueError for one the store does not know."""
    if value not in get_args(BankStatus):
        raise ValueError(f"unknown bank payment status {value!r}")
    return cast(BankStatus, value)


@dataclass(frozen=True)
class Queues:
    """Where a run's tasks go. One queue (`split=False`, the default deployment) carries the
    workflows and every activity, so activities start eagerly on the worker that runs the
    workflow; `split=True` gives each domain's activities a queue of its own (`{prefix}-billing`,
    …) and the workflows `{prefix}-flows`, to deploy and scale them apart. A run carries the
    layout it started with in its input, so changing the setting never strands a running flow."""

    prefix: str = "shopflow"
    split: bool = False

    @property
    def workflows(self) -> str:
        return f"{self.prefix}-flows" if self.split else self.prefix

    def activities(self, domain: str) -> str:
        return f"{self.prefix}-{domain}" if self.split else self.prefix


# Runs started before the layout was carried used the per-domain queues under this prefix.
LEGACY_QUEUES = Queues(split=True)


@dataclass(frozen=True)
class RegistrationInput:
    username: str
    first_name: str
    last_name: str
    email: str
    phone: str
    # A reference to the password hash stashed by auth; the hash itself never enters history.
    credential_id: str
    queues: Queues = LEGACY_QUEUES


@dataclass(frozen=True)
class RegistrationResult:
    username: str
    user_id: int
    wallet_id: int
    payment_profile_id: int
    notification_account_id: int
    welcome_mail_sent: bool


@dataclass(frozen=True)
class UserRef:
    username: str
    user_id: int


@dataclass(frozen=True)
class CustomerInput:
    """Names the customer a per-domain step works for."""

    username: str


@dataclass(frozen=True)
class EntityRef:
    """The id of what a step created (wallet, payment profile, notification account)."""

    id: int


@dataclass(frozen=True)
class NotificationAccountInput:
    username: str
    email: str
    phone: str


@dataclass(frozen=True)
class WelcomeMailInput:
    username: str
    first_name: str
    idempotency_key: str


@dataclass(frozen=True)
class MailResult:
    message_id: str
    sent: bool
    already_sent: bool = False


@dataclass(frozen=True)
class Changed:
    """What an undo step reports: whether it found something to undo."""

    changed: bool


# --- checkout and payment -------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutInput:
    order_id: str
    username: str
    version: int  # the order version the shopper saw when clicking «Оформить заказ»
    idle_timeout_seconds: int = 30 * 60
    public_url: str = ""  # the store's address, for the bank's return and callback URLs
    bank_wait_seconds: int = 15 * 60
    bank_poll_seconds: int = 20
    queues: Queues = LEGACY_QUEUES
    pickup_days: int = 7
    pickup_reminder_days: int = 3

    @property
    def key(self) -> str:
        """This checkout of the order, unique across its runs: each checkout begins at a new
        version of the order (beginning and giving the order back both bump it)."""
        return f"{self.order_id}-v{self.version}"


@dataclass(frozen=True)
class OrderRef:
    order_id: str


@dataclass(frozen=True)
class BeginCheckoutInput:
    order_id: str
    username: str
    version: int


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class OrderSnapshot:
    order_id: str
    username: str
    lines: list[OrderLine]
    goods_kopecks: int


@dataclass(frozen=True)
class HoldInput:
    order_id: str
    lines: list[OrderLine]


@dataclass(frozen=True)
class Units:
    units: int


@dataclass(frozen=True)
class DeliveryRequest:
    """What the shopper picked: COURIER with address and company, or PICKUP with a point."""

    kind: DeliveryKind
    address: str = ""
    company_name: str = ""
    pickup_point_id: int | None = None


@dataclass(frozen=True)
class DeliveryChoice:
    kind: DeliveryKind
    company_name: str
    address: str
    pickup_point_id: int | None
    cost_kopecks: int
    estimated_date: str  # ISO date
    summary: str  # human-readable, Russian


@dataclass(frozen=True)
class OpenCaseInput:
    order_id: str
    choice: DeliveryChoice


@dataclass(frozen=True)
class CostConfirmation:
    cost_kopecks: int


@dataclass(frozen=True)
class PayRequest:
    """«Оплатить»: WALLET; GIFT_CARD with an activated card's id; BANK_CARD with a saved card's
    id, or none for «другая карта» (the bank's page, remembered if save_card); SBP."""

    method: PayMethod
    token_id: int | None = None
    save_card: bool = False


@dataclass(frozen=True)
class BankSetup:
    """Where the bank sends the buyer back and posts its callbacks, and how long to wait."""

    return_url: str
    callback_url: str
    wait_seconds: int = 15 * 60
    poll_seconds: int = 20


@dataclass(frozen=True)
class PaymentInput:
    purpose: PaymentPurpose
    reference_id: str
    attempt: int
    username: str
    amount_kopecks: int
    method: PayMethod
    token_id: int | None = None
    save_card: bool = False
    bank: BankSetup | None = None
    queues: Queues = LEGACY_QUEUES
    # The attempt's id: its run id and every money step's idempotency key. Empty in runs started
    # before it was carried: `payment-{purpose}-{reference_id}-{attempt}` then.
    key: str = ""


@dataclass(frozen=True)
class PaymentResult:
    status: PaymentStatus
    method: PayMethod
    amount_kopecks: int
    transaction_id: int | None = None
    message: str = ""
    error_type: str = ""
    masked: str = ""  # the card or gift card it was paid with, as shown to the shopper
    token_id: int | None = None  # the gift card or saved card used
    bank_payment_id: str = ""  # the bank's id for card and СБП payments (refunds need it)


@dataclass(frozen=True)
class RefundInput:
    """Give back a payment by the way it came: wallet, gift card or the bank."""

    username: str
    payment: PaymentResult
    idempotency_key: str
    reference: str


@dataclass(frozen=True)
class GiftCardMoveInput:
    username: str
    gift_card_id: int
    amount_kopecks: int
    idempotency_key: str
    reference: str


@dataclass(frozen=True)
class BankPaymentInput:
    """A payment on the bank's page (card form or СБП QR code)."""

    username: str
    method: BankMethod
    amount_kopecks: int
    idempotency_key: str
    description: str
    return_url: str
    callback_url: str
    save_card: bool = False


@dataclass(frozen=True)
class SavedCardChargeInput:
    username: str
    card_id: int
    amount_kopecks: int
    idempotency_key: str
    description: str


@dataclass(frozen=True)
class BankPaymentRef:
    payment_id: str


@dataclass(frozen=True)
class BankOutcome:
    """A bank payment as the bank sees it (never a card number: the masked one at most)."""

    payment_id: str
    status: BankStatus
    amount_kopecks: int
    refunded_kopecks: int = 0
    decline_reason: str = ""
    masked: str = ""
    confirmation_url: str = ""

    @property
    def final(self) -> bool:
        return self.status != "PENDING"

    @property
    def paid(self) -> bool:
        return self.status in ("SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED")


@dataclass(frozen=True)
class BankNotice:
    """The bank's callback (signature checked by the API), signalled to the waiting run."""

    payment_id: str
    status: BankStatus
    event_id: str


@dataclass(frozen=True)
class SaveCardInput:
    username: str
    payment_id: str


@dataclass(frozen=True)
class BankRefundInput:
    payment_id: str
    amount_kopecks: int
    idempotency_key: str


@dataclass(frozen=True)
class LatePaymentInput:
    """A bank payment its PaymentWorkflow gave up on: refunded if it still succeeds."""

    username: str
    payment_id: str
    method: PayMethod
    reference: str  # the order (or gift card, top-up) the payment was for
    poll_seconds: int  # the first pause between two questions to the bank; it doubles
    watch_seconds: int = 24 * 60 * 60
    queues: Queues = LEGACY_QUEUES
    max_poll_seconds: int = 60 * 60


@dataclass(frozen=True)
class WalletMoveInput:
    username: str
    amount_kopecks: int
    idempotency_key: str
    reference: str


@dataclass(frozen=True)
class MoneyMoved:
    transaction_id: int
    balance_after_kopecks: int
    masked: str = ""  # a gift card's masked code


@dataclass(frozen=True)
class FinishCheckoutInput:
    order_id: str
    status: FinishStatus
    reason: str = ""
    delivery_summary: str = ""
    delivery_cost_kopecks: int = 0
    payment_method: PayMethodOrNone = ""
    paid_kopecks: int = 0


@dataclass(frozen=True)
class ResultMailInput:
    """Format 2 (order outcome) or Format 3 (payment attempt) of the spec, as an e-mail."""

    kind: MailKind
    order_id: str
    username: str
    success: bool
    amount_kopecks: int
    detail: str
    idempotency_key: str
    method: PayMethodOrNone = ""  # Format 3's tokenType
    masked: str = ""  # Format 3's maskedTokenId


@dataclass
class CheckoutState:
    """What the checkout page shows; answered by the `state` query and by every Update."""

    order_id: str
    step: CheckoutStep
    goods_kopecks: int = 0
    delivery: DeliveryChoice | None = None
    delivery_confirmed: bool = False
    payment_attempts: int = 0
    payment_method: PayMethodOrNone = ""
    last_error: str = ""
    failure_reason: str = ""
    payment_url: str = ""  # the bank's page while AWAITING_BANK
    cart_order_id: str = ""  # where the goods are after BACK_TO_CART / EXPIRED (merged carts)

    @property
    def total_kopecks(self) -> int:
        return self.goods_kopecks + (self.delivery.cost_kopecks if self.delivery else 0)
