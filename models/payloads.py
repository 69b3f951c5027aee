"""Inputs and outputs of workflows and activities: one dataclass in, one dataclass out.

Standard library only: workflows load this module inside Temporal's sandbox. Adding a field with a
default never breaks the history of a running workflow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegistrationInput:
    username: str
    first_name: str
    last_name: str
    email: str
    phone: str
    # A reference to the password hash stashed by auth; the hash itself never enters history.
    credential_id: str


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
