"""Single sign-on tables: outside identities linked to local accounts, sign-ins in flight
(state, nonce, PKCE verifier, each used once) and identities signed in but not yet linked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class LinkedIdentity(SQLModel, table=True):
    """An outside provider's subject, signing in as this local account."""

    __tablename__ = "auth_identity"
    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_auth_identity_provider_subject"),
        UniqueConstraint("user_id", "provider", name="uq_auth_identity_user_provider"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="auth_user.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=32)
    subject: str = Field(max_length=255)
    email: str = Field(default="", max_length=254)  # as the provider gave it when linked
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class SsoAttempt(SQLModel, table=True):
    """A sign-in sent to the provider, found again by its state when the shopper comes back;
    deleted then, so a callback works once."""

    __tablename__ = "auth_sso_attempt"

    state_hash: str = Field(primary_key=True, max_length=64)
    provider: str = Field(max_length=32)
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    next_url: str = Field(default="/", max_length=512)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class SsoPending(SQLModel, table=True):
    """An identity the provider vouched for that no account has yet: waiting for the shopper to
    complete a registration or prove the password of the account with its e-mail."""

    __tablename__ = "auth_sso_pending"

    token_hash: str = Field(primary_key=True, max_length=64)
    provider: str = Field(max_length=32)
    subject: str = Field(max_length=255)
    email: str = Field(default="", max_length=254)
    email_verified: bool = False
    given_name: str = Field(default="", max_length=64)
    family_name: str = Field(default="", max_length=64)
    phone: str = Field(default="", max_length=32)
    next_url: str = Field(default="/", max_length=512)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
