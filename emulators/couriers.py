"""Courier companies emulator: outside delivery firms that quote a price and a date for an address.

For development and tests: `python -m emulators.couriers --host 127.0.0.1 --port 8200`.

    GET    /companies                      [{"code", "name"}]
    GET    /companies/{code}/quote         ?address=...&weightGrams=1000&shipDate=2025-06-02
                                           → {"company", "name", "zone", "distanceKm",
                                              "costKopecks", "estimatedDate"}
    POST   /admin/faults                   {"company", "mode": "down"|"slow"|"none", "delayMs"}
    DELETE /admin/faults                   heal every firm
    GET    /healthz                        {"status": "ok"}

"down" makes a firm answer 503, "slow" makes it sleep `delayMs` before answering. Errors are
`{"errorMessage": ...}`: 404 for an unknown firm, 400 for a blank or over-long (> 300 characters)
address, a bad shipDate or a weight outside 1..50000 g. The firms are emulated; nothing real is
called.

Pricing is deterministic: the same address, weight and ship date always give the same quote.

1. The address is normalized: lower case, "ё" → "е", runs of whitespace collapsed, ends trimmed.
2. The zone comes from place words in it: "московская область"/"подмосковье" → 2, "москва" → 1,
   a Moscow-region town (Химки, Мытищи, …) → 2, Санкт-Петербург or Ленинградская область → 3,
   another known city or any "г."/"область"/"край"/"республика" mark → 4, nothing recognisable → 5.
3. The distance in km is a stable pseudo-random point inside the zone's range: the first 8 bytes of
   sha256(normalized address) taken modulo the range width (the same for every firm).
4. cost = firm base + firm per-km rate × distance + firm zone surcharge + firm rate for every
   started kilogram above the first; rounded half up to whole roubles, answered in kopecks.
5. Delivery takes firm speed + zone days, counted from the ship date over days that are not Sundays,
   so the estimated date is always later than the ship date and never a Sunday.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal

import uvicorn
from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from emulators.common import install_error_handlers

log = logging.getLogger("couriers-emulator")

MAX_ADDRESS_LENGTH = 300
MIN_WEIGHT_GRAMS = 1
MAX_WEIGHT_GRAMS = 50_000

# Distance range in km for each zone, as seen from the store's warehouse in Moscow.
ZONE_DISTANCE_KM: dict[int, tuple[int, int]] = {
    1: (3, 40),
    2: (20, 120),
    3: (650, 900),
    4: (400, 7000),
    5: (1000, 9000),
}
ZONE_DAYS: dict[int, int] = {1: 0, 2: 1, 3: 1, 4: 3, 5: 5}

_MOSCOW_REGION = ("московская область", "московская обл", "подмосковье")
_MOSCOW = ("москва", "мск")
_MOSCOW_REGION_TOWNS = (
    "балашиха",
    "химки",
    "мытищи",
    "подольск",
    "королев",
    "люберцы",
    "красногорск",
    "одинцово",
    "долгопрудный",
    "реутов",
    "электросталь",
    "коломна",
    "серпухов",
    "домодедово",
    "пушкино",
    "щелково",
    "сергиев посад",
    "раменское",
    "жуковский",
    "видное",
)
_ST_PETERSBURG = ("санкт-петербург", "петербург", "спб", "питер", "ленинградская область")
_CITIES = (
    "новосибирск",
    "екатеринбург",
    "казань",
    "нижний новгород",
    "челябинск",
    "самара",
    "омск",
    "ростов-на-дону",
    "уфа",
    "красноярск",
    "воронеж",
    "пермь",
    "волгоград",
    "краснодар",
    "саратов",
    "тюмень",
    "тольятти",
    "ижевск",
    "барнаул",
    "ульяновск",
    "иркутск",
    "хабаровск",
    "ярославль",
    "владивосток",
    "томск",
    "оренбург",
    "кемерово",
    "рязань",
    "астрахань",
    "пенза",
    "липецк",
    "киров",
    "тула",
    "калининград",
    "сочи",
    "тверь",
)
_PLACE_MARKS = ("г", "город", "обл", "область", "край", "республика", "респ")


@dataclass(frozen=True)
class Company:
    """One firm's tariff. All money in kopecks."""

    code: str
    name: str
    base: int
    per_km: int
    zone_surcharge: dict[int, int]
    per_extra_kg: int
    speed_days: int  # at least 1, so an estimate is always after the ship date


# Base + zone surcharge and every rate are ordered СДЭК > Boxberry > ПЭК in every zone, so the three
# quotes for one address always differ; the cheapest firm is also the slowest.
COMPANIES: dict[str, Company] = {
    company.code: company
    for company in (
        Company(
            code="cdek",
            name="СДЭК Экспресс",
            base=39_000,
            per_km=40,
            zone_surcharge={1: 0, 2: 10_000, 3: 15_000, 4: 30_000, 5: 50_000},
            per_extra_kg=6_000,
            speed_days=1,
        ),
        Company(
            code="boxberry",
            name="Boxberry Плюс",
            base=29_000,
            per_km=35,
            zone_surcharge={1: 0, 2: 15_000, 3: 10_000, 4: 25_000, 5: 45_000},
            per_extra_kg=4_500,
            speed_days=2,
        ),
        Company(
            code="pek",
            name="ПЭК Доставка",
            base=22_000,
            per_km=25,
            zone_surcharge={1: 0, 2: 10_000, 3: 20_000, 4: 20_000, 5: 40_000},
            per_extra_kg=2_000,
            speed_days=3,
        ),
    )
}


def normalize_address(address: str) -> str:
    return " ".join(address.lower().replace("ё", "е").split())


def _words(normalized: str) -> str:
    """The address as space-separated words padded with spaces, so " москва " matches a whole word
    ("ул. Подольская" is no town, "Московская" is no "Москва")."""
    return " " + " ".join(re.findall(r"[0-9a-zа-я-]+", normalized)) + " "


def zone_of(normalized: str) -> int:
    words = _words(normalized)

    def has(*places: str) -> bool:
        return any(f" {place} " in words for place in places)

    if has(*_MOSCOW_REGION):
        return 2
    if has(*_MOSCOW):
        return 1
    if has(*_MOSCOW_REGION_TOWNS):
        return 2
    if has(*_ST_PETERSBURG):
        return 3
    if has(*_CITIES, *_PLACE_MARKS):
        return 4
    return 5


def distance_km(normalized: str, zone: int) -> int:
    low, high = ZONE_DISTANCE_KM[zone]
    digest = hashlib.sha256(normalized.encode("utf-8")).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)


def add_days_skipping_sundays(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.isoweekday() != 7:
            days -= 1
    return current


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class CompanyOut(CamelModel):
    code: str
    name: str


class Quote(CamelModel):
    company: str
    name: str
    zone: int
    distance_km: int
    cost_kopecks: int
    estimated_date: date


class FaultIn(CamelModel):
    company: str
    mode: Literal["down", "slow", "none"]
    delay_ms: int = Field(default=0, ge=0, le=60_000)


def quote(company: Company, address: str, *, weight_grams: int, ship_date: date) -> Quote:
    """The firm's offer; `address` must already be validated (non-blank, not over-long)."""
    normalized = normalize_address(address)
    zone = zone_of(normalized)
    distance = distance_km(normalized, zone)
    extra_kg = max(0, -(-(weight_grams - 1000) // 1000))  # started kilograms above the first
    kopecks = (
        company.base
        + company.per_km * distance
        + company.zone_surcharge[zone]
        + company.per_extra_kg * extra_kg
    )
    return Quote(
        company=company.code,
        name=company.name,
        zone=zone,
        distance_km=distance,
        cost_kopecks=(kopecks + 50) // 100 * 100,
        estimated_date=add_days_skipping_sundays(ship_date, company.speed_days + ZONE_DAYS[zone]),
    )


def create_app() -> FastAPI:
    app = FastAPI(title="Курьерские службы (эмулятор)")
    # Only async endpoints touch this, all on the one event loop, so it needs no lock.
    faults: dict[str, FaultIn] = {}

    install_error_handlers(app)

    def company_or_404(code: str) -> Company:
        company = COMPANIES.get(code)
        if company is None:
            raise HTTPException(404, f"Неизвестная курьерская служба: {code}")
        return company

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/companies")
    async def companies() -> list[CompanyOut]:
        return [CompanyOut(code=c.code, name=c.name) for c in COMPANIES.values()]

    @app.get("/companies/{code}/quote")
    async def company_quote(
        code: str,
        address: Annotated[str, Query(max_length=MAX_ADDRESS_LENGTH)],
        ship_date: Annotated[date, Query(alias="shipDate")],
        weight_grams: Annotated[
            int, Query(alias="weightGrams", ge=MIN_WEIGHT_GRAMS, le=MAX_WEIGHT_GRAMS)
        ] = 1000,
    ) -> Quote:
        company = company_or_404(code)
        if not address.strip():
            raise HTTPException(400, "Неверный запрос: адрес пуст")
        fault = faults.get(code)
        if fault is not None and fault.mode == "down":
            log.info("%s is down: 503", code)
            raise HTTPException(503, f"{company.name}: сервис временно недоступен")
        if fault is not None and fault.mode == "slow":
            await asyncio.sleep(fault.delay_ms / 1000)
        offer = quote(company, address, weight_grams=weight_grams, ship_date=ship_date)
        log.info(
            "%s: zone %s, %s km, %s g → %s kop by %s",
            code,
            offer.zone,
            offer.distance_km,
            weight_grams,
            offer.cost_kopecks,
            offer.estimated_date,
        )
        return offer

    @app.get("/admin/faults")
    async def list_faults() -> list[FaultIn]:
        return list(faults.values())

    @app.post("/admin/faults")
    async def set_fault(fault: FaultIn) -> list[FaultIn]:
        company_or_404(fault.company)
        if fault.mode == "none":
            faults.pop(fault.company, None)
        else:
            faults[fault.company] = fault
        log.info("fault for %s: %s %s ms", fault.company, fault.mode, fault.delay_ms)
        return list(faults.values())

    @app.delete("/admin/faults", status_code=204)
    async def clear_faults() -> None:
        faults.clear()
        log.info("faults cleared")

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s couriers %(levelname)s %(message)s")
    log.info("courier companies on http://%s:%s", args.host, args.port)
    # A "slow" answer still in flight must not hold up shutdown for long.
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
