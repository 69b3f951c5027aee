"""Buying a gift card for someone and topping up one's wallet: the limits, the postcard designs
and the request bodies (the page's form checks the same rules: web/templates/payment/)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator

from models.auth import EMAIL_MAX, EMAIL_PATTERN, NAME_PATTERN
from models.base import CamelModel, Id
from models.payloads import PayMethod, PayRequest

# A gift card costs from 100 to 50 000 ₽; a top-up adds from 10 to 100 000 ₽ at once.
GIFT_CARD_MIN_KOPECKS = 100_00
GIFT_CARD_MAX_KOPECKS = 50_000_00
TOPUP_MIN_KOPECKS = 10_00
TOPUP_MAX_KOPECKS = 100_000_00

# The postcard designs a gift card comes with (each drawn by web/postcards.py).
POSTCARDS: dict[str, str] = {
    "birthday": "С днём рождения",
    "new-year": "С Новым годом",
    "thanks": "Спасибо",
    "flowers": "Просто так",
}


def _amount(value: Decimal, low: int, high: int) -> Decimal:
    kopecks = value * 100
    if kopecks != kopecks.to_integral_value():
        raise ValueError("сумма: не больше двух знаков после запятой")
    if not low <= kopecks <= high:
        raise ValueError(f"сумма: от {low // 100} до {high // 100} ₽")
    return value


class GiftCardBuyRequest(CamelModel):
    """«Купить подарочную карту»: whom it is for, how much, which postcard."""

    grantee_name: str
    grantee_email: str
    amount: Decimal = Field(allow_inf_nan=False)
    design: str

    @field_validator("grantee_name", "grantee_email", mode="before")
    @classmethod
    def _strip(cls, v: object) -> object:
        return v.strip() if isinstance(v, str) else v

    @field_validator("grantee_name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(NAME_PATTERN, v):
            raise ValueError("имя: буквы, пробел, дефис; до 64 символов")
        return v

    @field_validator("grantee_email")
    @classmethod
    def _email(cls, v: str) -> str:
        if len(v) > EMAIL_MAX or not re.fullmatch(EMAIL_PATTERN, v):
            raise ValueError("e-mail вида name@example.ru")
        return v.lower()

    @field_validator("amount")
    @classmethod
    def _limits(cls, v: Decimal) -> Decimal:
        return _amount(v, GIFT_CARD_MIN_KOPECKS, GIFT_CARD_MAX_KOPECKS)

    @field_validator("design")
    @classmethod
    def _design(cls, v: str) -> str:
        if v not in POSTCARDS:
            raise ValueError(f"открытка: одна из {', '.join(POSTCARDS)}")
        return v


class TopUpRequest(CamelModel):
    """«Пополнить баланс кошелька»: how much."""

    amount: Decimal = Field(allow_inf_nan=False)

    @field_validator("amount")
    @classmethod
    def _limits(cls, v: Decimal) -> Decimal:
        return _amount(v, TOPUP_MIN_KOPECKS, TOPUP_MAX_KOPECKS)


class PayBody(CamelModel):
    """«Оплатить» (an order or a purchase). `tokenId`: the gift card, or the remembered bank card
    (none = «другая карта»). `saveCard`: remember a new card once the bank has it (the bank keeps
    the number)."""

    method: Literal[PayMethod, "QR_PAY"]  # QR_PAY: the spec's name for SBP
    token_id: Id | None = None
    save_card: bool = False

    def request(self) -> PayRequest:
        method: PayMethod = "SBP" if self.method == "QR_PAY" else self.method
        return PayRequest(method, self.token_id, self.save_card)
