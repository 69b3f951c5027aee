"""Cards at the bank emulator: the charges it made for a shopper, and a card the shopper
remembered earlier (the bank's token in our table)."""

from __future__ import annotations

import asyncio
from typing import Any

from core.db import SessionFactory, transaction
from services import payment
from tests.conftest import BankEmulator


async def charges(bank: BankEmulator, username: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await asyncio.to_thread(
        bank.admin, "GET", f"payments?customerRef={username}"
    )
    return found


async def remembered_card(sessions: SessionFactory, bank: BankEmulator, username: str) -> int:
    """A card the shopper saved earlier: the bank's token in our table."""
    card = bank.admin(
        "POST",
        "tokens",
        {"cardNumber": "4111111111111111", "expiry": "12/30", "customerRef": username},
    )
    async with transaction(sessions) as session:
        saved = await payment.save_card(
            session=session,
            username=username,
            bank_token=card["token"],
            masked=card["masked"],
            expiry=card["expiry"],
        )
    assert saved.id is not None
    return saved.id
