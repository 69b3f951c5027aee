"""The bank emulator's vocabulary: request bodies, what it keeps about payments, saved cards and
events, and the rules of its test cards (see emulators/bank.py for the API and the test cards)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

log = logging.getLogger("bank-emulator")

DECLINED = "Банк отклонил операцию"
INSUFFICIENT_FUNDS = "Недостаточно средств на карте"
THREE_DS_FAILED = "Платёж не подтверждён: неверный код 3-D Secure"
SBP_REJECTED = "Платёж отклонён в приложении банка"
CARD_EXPIRED = "Срок действия карты истёк"
THREE_DS_CODE = "1234"
CARD_OUTCOMES: dict[str, str] = {  # card number → what the bank answers
    "4000000000000002": DECLINED,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000000000003220": "3DS",
}
URL_PATTERN = r"^https?://\S+$"


class BankError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PaymentIn(CamelModel):
    amount_kopecks: int = Field(gt=0, le=10**12)
    idempotency_key: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=256)
    return_url: str = Field(pattern=URL_PATTERN, max_length=2000)
    callback_url: str | None = Field(default=None, pattern=URL_PATTERN, max_length=2000)
    method: Literal["CARD", "SBP"]
    bind_card: bool = False
    customer_ref: str | None = Field(default=None, max_length=128)


class ChargeIn(CamelModel):
    amount_kopecks: int = Field(gt=0, le=10**12)
    idempotency_key: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=256)
    callback_url: str | None = Field(default=None, pattern=URL_PATTERN, max_length=2000)


class RefundIn(CamelModel):
    amount_kopecks: int = Field(gt=0, le=10**12)
    idempotency_key: str = Field(min_length=1, max_length=128)


class SeedCardIn(CamelModel):
    card_number: str
    expiry: str
    customer_ref: str | None = Field(default=None, max_length=128)


class LatencyIn(CamelModel):
    charge_ms: int = Field(default=0, ge=0, le=60_000)


class CallbackSettings(CamelModel):
    duplicate: bool = False
    delay_ms: int = Field(default=0, ge=0, le=60_000)
    reorder: bool = False


@dataclass(frozen=True)
class StoredCard:
    """The bank's own record of a saved card; its number never leaves the bank."""

    token: str
    number: str
    expiry: str
    customer_ref: str | None

    @property
    def masked(self) -> str:
        return mask(self.number)


@dataclass
class Payment:
    payment_id: str
    method: str
    amount: int
    description: str
    return_url: str
    callback_url: str | None
    bind_card: bool
    customer_ref: str | None
    status: str = "PENDING"
    refunded: int = 0
    decline_reason: str | None = None
    card: StoredCard | None = None  # shown (token, masked, expiry) once saved or charged
    challenge: tuple[str, str, bool] | None = None  # 3-D Secure pending: number, expiry, save


@dataclass(frozen=True)
class Event:
    event_id: str
    payment_id: str
    status: str
    url: str
    body: bytes


def mask(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def expired(expiry: str, now: datetime) -> bool:
    month, year = expiry.split("/")
    return (2000 + int(year), int(month)) < (now.year, now.month)


def check_card_form(number: str, expiry: str, cvc: str) -> tuple[str, str, list[str]]:
    """(digits, MM/YY, errors) from what the buyer typed; errors are shown on the form."""
    digits = re.sub(r"[\s-]", "", number)
    errors = []
    if not re.fullmatch(r"\d{13,19}", digits):
        errors.append("Введите номер карты полностью: от 13 до 19 цифр")
    elif not luhn_ok(digits):
        errors.append("Неверный номер карты")
    match = re.fullmatch(r"\s*(\d{2})\s*/\s*(\d{2})\s*", expiry)
    normalized = f"{match[1]}/{match[2]}" if match else ""
    if not match or not 1 <= int(match[1]) <= 12:
        errors.append("Укажите срок действия в формате ММ/ГГ")
    elif expired(normalized, datetime.now(UTC)):
        errors.append(CARD_EXPIRED)
    if not re.fullmatch(r"\d{3}", cvc.strip()):
        errors.append("CVC — три цифры на обороте карты")
    return digits, normalized, errors
