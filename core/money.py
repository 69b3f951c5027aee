"""Money is integer kopecks inside, decimal roubles with two places at the edges (JSON, pages)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

KOPECKS_PER_ROUBLE = 100


def to_kopecks(roubles: Decimal | int | str) -> int:
    """Exact conversion; refuses fractions of a kopeck rather than rounding money silently."""
    try:
        value = Decimal(str(roubles))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {roubles!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not an amount: {roubles!r}")
    kopecks = value * KOPECKS_PER_ROUBLE
    if kopecks != kopecks.to_integral_value():
        raise ValueError(f"amount has more than two decimal places: {roubles!r}")
    return int(kopecks)


def to_roubles(kopecks: int) -> Decimal:
    return (Decimal(kopecks) / KOPECKS_PER_ROUBLE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_roubles(kopecks: int) -> str:
    """Russian display form: '1 234,50 ₽'."""
    whole, frac = divmod(abs(kopecks), KOPECKS_PER_ROUBLE)
    sign = "-" if kopecks < 0 else ""
    grouped = f"{whole:,}".replace(",", "\u00a0")
    return f"{sign}{grouped},{frac:02d}\u00a0₽"
