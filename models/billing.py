"""billing tables: customer wallets and gift cards (balances in kopecks), and the log of every
balance change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Enum, Index
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class TransactionKind(StrEnum):
    DEBIT = "DEBIT"  # money out of the wallet (a payment)
    CREDIT = "CREDIT"  # money in (a top-up)
    REFUND = "REFUND"  # a payment given back


class Wallet(SQLModel, table=True):
    __tablename__ = "billing_wallet"
    __table_args__ = (CheckConstraint("balance_kopecks >= 0", name="wallet_balance_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True, index=True)
    balance_kopecks: int = Field(default=0)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class GiftCard(SQLModel, table=True):
    """A gift card's balance. Issued unbound («неавторизованная»); activation binds it to the
    shopper who enters its code. Only the code's SHA-256 is kept: the code itself is mailed to the
    recipient and never stored."""

    __tablename__ = "billing_gift_card"
    __table_args__ = (
        CheckConstraint("balance_kopecks >= 0", name="gift_card_balance_not_negative"),
        CheckConstraint("initial_kopecks > 0", name="gift_card_initial_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    masked: str = Field(max_length=24)  # "•••• 7F3Q": the code's last four characters
    initial_kopecks: int
    balance_kopecks: int
    recipient_name: str = Field(default="", max_length=80)
    recipient_email: str = Field(default="", max_length=254)
    design: str = Field(default="", max_length=20)
    issue_key: str = Field(max_length=200, unique=True)  # the issuing request's idempotency key
    owner_username: str | None = Field(default=None, max_length=32, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    activated_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    forgotten_at: datetime | None = Field(  # taken off the shopper's list (empty cards only)
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class BillingTransaction(SQLModel, table=True):
    """The append-only log of every balance change of a wallet or a gift card (exactly one of the
    two). The idempotency key makes a replayed operation return the first result instead of moving
    money again."""

    __tablename__ = "billing_transaction"
    __table_args__ = (
        CheckConstraint("amount_kopecks > 0", name="transaction_amount_positive"),
        CheckConstraint(
            "(wallet_id IS NULL) <> (gift_card_id IS NULL)", name="transaction_one_account"
        ),
        Index("ix_billing_transaction_gift_card_id", "gift_card_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    wallet_id: int | None = Field(default=None, foreign_key="billing_wallet.id", index=True)
    gift_card_id: int | None = Field(default=None, foreign_key="billing_gift_card.id")
    kind: TransactionKind = Field(
        sa_column=Column(Enum(TransactionKind, native_enum=False, length=8), nullable=False)
    )
    amount_kopecks: int
    balance_after_kopecks: int
    reference: str = Field(default="", max_length=120)  # e.g. "order:<id>"
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ActivationAttempt(SQLModel, table=True):
    """A gift card activation attempt that did not bind a card: a wrong code (or one already
    activated by someone else), by this shopper from this client address. A correct activation
    and a refused (limited) one leave no row; rows older than the window are pruned.
    services/billing.py: activate_gift_card_limited counts them."""

    __tablename__ = "billing_activation_attempt"
    __table_args__ = (
        Index("ix_billing_activation_attempt_username_at", "username", "at"),
        Index("ix_billing_activation_attempt_address_at", "address", "at"),
        Index("ix_billing_activation_attempt_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32)
    address: str = Field(max_length=64)  # the request's client host (IPv6 fits)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
