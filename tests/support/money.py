"""Amounts as the pages show them: written by the store's own formatter (`core.money`), read back
by a strict parser of the Russian format, so a page in any other format fails."""

from __future__ import annotations

import re
from decimal import Decimal

from core.money import format_roubles, to_kopecks

# The Russian money format of the pages: "1 234,50 ₽" with NO-BREAK SPACEs.
MONEY = re.compile(r"^(\d{1,3}(?:\u00a0\d{3})*),(\d{2})\u00a0₽$")


def parse_roubles(text: str) -> Decimal:
    """ "1 234,50 ₽" → Decimal("1234.50"); anything else in the text is a failure."""
    match = MONEY.match(text.strip())
    assert match, f"not a price in the Russian format: {text!r}"
    return Decimal(f"{match[1].replace(chr(0xA0), '')}.{match[2]}")


def roubles(amount: Decimal) -> str:
    """Decimal("1234.5") → "1 234,50 ₽", as the pages should show it."""
    return format_roubles(to_kopecks(amount))
