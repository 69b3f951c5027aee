"""billing tables: customer wallets (balances in kopecks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class Wallet(SQLModel, table=True):
    __tablename__ = "billing_wallet"
    __table_args__ = (CheckConstraint("balance_kopecks >= 0", name="wallet_balance_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True, index=True)
    balance_kopecks: int = Field(default=0)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
