"""Outside courier companies: a Protocol, the HTTP implementation, and a fake for tests.

The delivery service asks every company for a quote on an address and shows the answers as delivery
variants. One company failing (down, slow, answering nonsense) only removes its variant; only when
none answers is that an error, `CourierUnavailableError`, which is retryable.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import httpx

from core.errors import UnavailableError, ValidationError

log = logging.getLogger(__name__)

MAX_ADDRESS_LENGTH = 300
MIN_WEIGHT_GRAMS = 1
MAX_WEIGHT_GRAMS = 50_000


@dataclass(frozen=True)
class CourierQuote:
    company_code: str
    company_name: str
    cost_kopecks: int
    estimated_date: date


class CourierUnavailableError(UnavailableError):
    """No courier company answered. Keeps UnavailableError's code so it crosses a Temporal
    boundary as a retryable UnavailableError (see core.errors.error_class)."""


class CourierGateway(Protocol):
    async def quotes(
        self, address: str, *, ship_date: date, weight_grams: int = 1000
    ) -> list[CourierQuote]:
        """Every company's offer, cheapest first (then earliest). Companies that fail are left
        out; raise CourierUnavailableError if none answers, ValidationError for a bad address or
        weight."""


def _check_request(address: str, weight_grams: int) -> None:
    if not address.strip():
        raise ValidationError("Укажите адрес доставки", fields={"address": "Адрес пуст"})
    if len(address) > MAX_ADDRESS_LENGTH:
        raise ValidationError(
            "Адрес доставки слишком длинный",
            fields={"address": f"Не длиннее {MAX_ADDRESS_LENGTH} символов"},
        )
    if not MIN_WEIGHT_GRAMS <= weight_grams <= MAX_WEIGHT_GRAMS:
        raise ValidationError(
            "Вес посылки вне допустимых пределов",
            fields={"weightGrams": f"От {MIN_WEIGHT_GRAMS} до {MAX_WEIGHT_GRAMS} г"},
        )


def _sorted(quotes: list[CourierQuote]) -> list[CourierQuote]:
    return sorted(quotes, key=lambda q: (q.cost_kopecks, q.estimated_date, q.company_code))


class HttpCourierGateway:
    """The courier companies' HTTP API (emulators/couriers.py serves the same contract).

    `timeout` bounds each company's whole answer, so one slow company delays the variants by at most
    that much. The company list is fetched once and kept.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)
        self._companies: list[tuple[str, str]] | None = None
        self._companies_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _company_codes(self) -> list[tuple[str, str]]:
        async with self._companies_lock:
            if self._companies is None:
                try:
                    response = await self._client.get("/companies")
                    response.raise_for_status()
                    body: list[dict[str, Any]] = response.json()
                    self._companies = [(str(c["code"]), str(c["name"])) for c in body]
                except (httpx.HTTPError, ValueError, LookupError, TypeError) as exc:
                    log.warning("courier company list unavailable: %r", exc)
                    raise CourierUnavailableError("Службы доставки недоступны") from exc
            return self._companies

    async def _quote(
        self, code: str, name: str, address: str, ship_date: date, weight_grams: int
    ) -> CourierQuote | None:
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.get(
                    f"/companies/{code}/quote",
                    params={
                        "address": address,
                        "shipDate": ship_date.isoformat(),
                        "weightGrams": weight_grams,
                    },
                )
                response.raise_for_status()
                body: dict[str, Any] = response.json()
            return CourierQuote(
                company_code=code,
                company_name=str(body.get("name") or name),
                cost_kopecks=int(body["costKopecks"]),
                estimated_date=date.fromisoformat(body["estimatedDate"]),
            )
        except TimeoutError:
            log.warning("courier %s left out: no answer within %ss", code, self._timeout)
        except httpx.HTTPStatusError as exc:
            log.warning("courier %s left out: HTTP %s", code, exc.response.status_code)
        except httpx.HTTPError as exc:
            log.warning("courier %s left out: %r", code, exc)
        except (ValueError, LookupError, TypeError, AttributeError) as exc:
            log.warning("courier %s left out: unreadable answer (%r)", code, exc)
        return None

    async def quotes(
        self, address: str, *, ship_date: date, weight_grams: int = 1000
    ) -> list[CourierQuote]:
        _check_request(address, weight_grams)
        companies = await self._company_codes()
        answers = await asyncio.gather(
            *(
                self._quote(code, name, address.strip(), ship_date, weight_grams)
                for code, name in companies
            )
        )
        quotes = [answer for answer in answers if answer is not None]
        if not quotes:
            raise CourierUnavailableError("Ни одна служба доставки не ответила")
        return _sorted(quotes)


@dataclass
class FakeCourierGateway:
    """Test fake: answers `offers` for every address; can be told to fail the next N calls."""

    offers: list[CourierQuote] = field(default_factory=list)
    failures_left: int = 0
    asked: list[str] = field(default_factory=list)

    async def quotes(
        self, address: str, *, ship_date: date, weight_grams: int = 1000
    ) -> list[CourierQuote]:
        _check_request(address, weight_grams)
        self.asked.append(address)
        if self.failures_left > 0:
            self.failures_left -= 1
            raise CourierUnavailableError("Службы доставки недоступны (имитация)")
        return _sorted(self.offers)
