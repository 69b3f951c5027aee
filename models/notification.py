"""notification tables: accounts, their delivery channels, and the log of sent messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Enum, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class ChannelKind(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"


def _kind_column() -> Column[ChannelKind]:
    # Text with a CHECK, not a native PostgreSQL enum: adding a channel stays a one-line change.
    return Column(Enum(ChannelKind, native_enum=False, length=8), nullable=False)


class NotificationAccount(SQLModel, table=True):
    __tablename__ = "notification_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class NotificationChannel(SQLModel, table=True):
    """Where an account can be reached. E-mail is delivered; SMS and push are recorded for later."""

    __tablename__ = "notification_channel"
    __table_args__ = (UniqueConstraint("account_id", "kind", name="one_channel_per_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="notification_account.id", index=True, ondelete="CASCADE")
    kind: ChannelKind = Field(sa_column=_kind_column())
    address: str = Field(max_length=254)
    enabled: bool = True


class Notification(SQLModel, table=True):
    """One message to one address. The idempotency key makes a retried send a no-op."""

    __tablename__ = "notification_message"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True, index=True)
    username: str = Field(max_length=32, index=True)
    kind: ChannelKind = Field(sa_column=_kind_column())
    address: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    body: str
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
