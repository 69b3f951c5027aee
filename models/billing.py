"""billing tables: customer wallets (balances in kopecks)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Enum
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


class BillingTransaction(SQLModel, table=True):
    """The append-only log of every balance change. The idempotency key makes a replayed
    operation return the first result instead of moving money again."""

    __tablename__ = "billing_transaction"
    __table_args__ = (CheckConstraint("amount_kopecks > 0", name="transaction_amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    wallet_id: int = Field(foreign_key="billing_wallet.id", index=True)
    kind: TransactionKind = Field(
        sa_column=Column(Enum(TransactionKind, native_enum=False, length=8), nullable=False)
    )
    amount_kopecks: int
    balance_after_kopecks: int
    reference: str = Field(default="", max_length=120)  # e.g. "order:<id>"
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
