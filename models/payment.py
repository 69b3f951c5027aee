"""payment tables: the customer's payment profile and saved bank cards.

A saved card is the bank's token and the masked number the bank returned: card numbers and CVCs
never reach Shopflow (the bank hosts the card form). Gift cards are billing's accounts; an
activated one belongs to its shopper there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class PaymentProfile(SQLModel, table=True):
    __tablename__ = "payment_profile"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


def card_mask(masked: str) -> str:
    """A bank card or a gift card as the store lists it to the shopper, both alike: «•••• 4242»,
    the last four characters of the bank's masked number (411111******1111) or of billing's
    masked code («•••• 7F3Q»)."""
    return f"•••• {masked[-4:]}"


class SavedCard(SQLModel, table=True):
    """A bank card the shopper chose to remember («Запомнить карту»)."""

    __tablename__ = "payment_saved_card"
    __table_args__ = (UniqueConstraint("username", "bank_token", name="saved_card_once"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, index=True)
    bank_token: str = Field(max_length=64)  # the bank's token: chargeable only by our merchant
    masked: str = Field(max_length=24)  # 411111******1111
    expiry: str = Field(max_length=5)  # MM/YY
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
