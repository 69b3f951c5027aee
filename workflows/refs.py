"""Every workflow, Update, Signal and Query that is called from outside its own class, by name and
by type: the workflows declare their handlers with these names, and the flows (the application
layer between the edge and Temporal) call them through these refs, never by a string of their
own. tests/unit/test_refs.py checks each ref against the handler it names.

Only payload types and the standard library: the edge imports this module without loading the
workflow classes (and, through them, the activities and their services).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from models.payloads import (
    BankNotice,
    CheckoutInput,
    CheckoutState,
    CostConfirmation,
    DeliveryRequest,
    LatePaymentInput,
    PaymentInput,
    PaymentResult,
    PayRequest,
    RegistrationInput,
    RegistrationResult,
)
from models.payloads_account import (
    EmailChangeInput,
    EmailChangeRequest,
    EmailChangeState,
    EmailConfirmation,
)
from models.payloads_fulfilment import CancelRequest, FulfilmentInput, FulfilmentState, StageRequest
from models.payloads_purchase import PurchaseInput, PurchaseState

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class WorkflowRef(Generic[In, Out]):
    """A workflow type: its name, its one input and its result."""

    name: str
    input: type[In]
    result: type[Out]


@dataclass(frozen=True)
class UpdateRef(Generic[In, Out]):
    """An Update: `arg` is None for an Update that takes no argument (then `In` is None too)."""

    name: str
    arg: type[In] | None
    result: type[Out]


@dataclass(frozen=True)
class SignalRef(Generic[In]):
    name: str
    arg: type[In] | None


@dataclass(frozen=True)
class QueryRef(Generic[Out]):
    name: str
    result: type[Out]


class Checkout:
    """`checkout-{orderId}`: the shopper's checkout of one order."""

    workflow = WorkflowRef("Checkout", CheckoutInput, CheckoutState)
    state = QueryRef("state", CheckoutState)
    ready: UpdateRef[None, CheckoutState] = UpdateRef("ready", None, CheckoutState)
    choose_delivery = UpdateRef("choose_delivery", DeliveryRequest, CheckoutState)
    confirm_delivery_cost = UpdateRef("confirm_delivery_cost", CostConfirmation, CheckoutState)
    pay = UpdateRef("pay", PayRequest, CheckoutState)
    leave_bank_page: UpdateRef[None, CheckoutState] = UpdateRef(
        "leave_bank_page", None, CheckoutState
    )
    back_to_cart: UpdateRef[None, CheckoutState] = UpdateRef("back_to_cart", None, CheckoutState)
    # From its Payment child: the buyer should now go to the bank's page at this URL.
    bank_page_opened = SignalRef("bank_page", str)


class Payment:
    """`payment-{purpose}-{key}-{n}`: one payment on the bank's page (card form, СБП)."""

    workflow = WorkflowRef("Payment", PaymentInput, PaymentResult)
    bank_callback = SignalRef("bank_callback", BankNotice)
    # From its Checkout parent: the buyer left the bank's page.
    give_up: SignalRef[None] = SignalRef("give_up", None)
    # For an operator: the bank's page while the run waits for it.
    bank_page_url = QueryRef("bank_page_url", str)


class LateBankPayment:
    """`bank-late-{bankPaymentId}`: watches a bank payment its Payment run gave up on."""

    workflow = WorkflowRef("LateBankPayment", LatePaymentInput, str)
    bank_callback = SignalRef("bank_callback", BankNotice)


class Purchase:
    """What a gift card purchase and a wallet top-up both answer."""

    state = QueryRef("state", PurchaseState)
    pay = UpdateRef("pay", PayRequest, PurchaseState)
    leave_bank_page: UpdateRef[None, PurchaseState] = UpdateRef(
        "leave_bank_page", None, PurchaseState
    )
    # From its Payment child, as to the checkout.
    bank_page_opened = SignalRef("bank_page", str)


class GiftCard(Purchase):
    """`giftcard-{uuid}`: a gift card bought for someone."""

    workflow = WorkflowRef("GiftCard", PurchaseInput, PurchaseState)


class WalletTopUp(Purchase):
    """`topup-{uuid}`: the buyer's wallet topped up."""

    workflow = WorkflowRef("WalletTopUp", PurchaseInput, PurchaseState)


class Fulfilment:
    """`delivery-{orderId}`: a paid order from picking to the shopper's hands."""

    workflow = WorkflowRef("Fulfilment", FulfilmentInput, FulfilmentState)
    state = QueryRef("state", FulfilmentState)
    advance = UpdateRef("advance", StageRequest, FulfilmentState)
    cancel = UpdateRef("cancel", CancelRequest, FulfilmentState)


class Registration:
    """`registration-{username}`."""

    workflow = WorkflowRef("Registration", RegistrationInput, RegistrationResult)
    # For an operator (Temporal UI → Queries): where the registration is.
    current_step = QueryRef("current_step", str)


class EmailChange:
    """`email-change-{username}`: a new e-mail confirmed by a mailed link (workflows/account.py)."""

    workflow = WorkflowRef("EmailChange", EmailChangeInput, EmailChangeState)
    # A new address: mails a new link; the pending one stops working.
    request = UpdateRef("request", EmailChangeRequest, EmailChangeState)
    # From the link's page, once its token was checked: answers when the address has changed.
    confirm = UpdateRef("confirm", EmailConfirmation, EmailChangeState)
    state = QueryRef("state", EmailChangeState)
