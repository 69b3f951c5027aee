"""Inputs and outputs of the e-mail change workflow and its activities (workflows/account.py).

Standard library only, like models.payloads: workflows load this module inside Temporal's
sandbox. The confirmation token is never here: the workflow carries the counter it is computed
from, the activity and the confirming endpoint compute it with the secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from models.payloads import Queues

# WAITING: a link was (or is being) mailed; APPLYING: confirmed, the address is being changed.
EmailChangeStatus = Literal["WAITING", "APPLYING", "CHANGED", "EXPIRED", "FAILED"]
CONFIRM_HOURS = 24  # how long a mailed link stays good


@dataclass(frozen=True)
class EmailChangeInput:
    username: str
    queues: Queues = field(default_factory=Queues)
    confirm_seconds: int = CONFIRM_HOURS * 3600


@dataclass(frozen=True)
class EmailChangeRequest:
    """A new address to confirm; replaces the pending one (its link stops working)."""

    new_email: str


@dataclass(frozen=True)
class EmailConfirmation:
    """The link was followed: its counter (the token was checked before this was sent)."""

    counter: int


@dataclass(frozen=True)
class EmailChangeState:
    status: EmailChangeStatus
    new_email: str
    counter: int
    # Seconds since the epoch when the pending link stops working.
    expires_at: float = 0.0
    detail: str = ""


@dataclass(frozen=True)
class ConfirmationMailInput:
    """The activity computes the link's token from these with the secret."""

    username: str
    new_email: str
    workflow_id: str
    run_id: str
    counter: int
    hours: int = CONFIRM_HOURS


@dataclass(frozen=True)
class NewEmailInput:
    username: str
    new_email: str
