"""payment tables: the customer's payment profile (saved payment means hang off it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class PaymentProfile(SQLModel, table=True):
    __tablename__ = "payment_profile"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
