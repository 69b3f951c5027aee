"""The courier gateway against the real courier emulator process, plus its parsing on a mock."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from adapters.couriers import (
    CourierQuote,
    CourierUnavailableError,
    FakeCourierGateway,
    HttpCourierGateway,
)
from core.errors import UnavailableError, ValidationError

MONDAY = date(2025, 6, 2)
MOSCOW = "Москва, ул. Тверская, 1"
NOVOSIBIRSK = "Новосибирск, Красный проспект, 10"
ADDRESSES_BY_ZONE = {
    MOSCOW: 1,
    "Московская область, г. Химки, ул. Ленина, 3": 2,
    "Мытищи, Олимпийский проспект, 12": 2,
    "Москва, ул. Подольская, 5": 1,
    "Санкт-Петербург, Невский проспект, 28": 3,
    NOVOSIBIRSK: 4,
    "Тверская обл., пос. Озёрный, д. 2": 4,
    "ул. Садовая, 17": 5,
}


@pytest.fixture
async def emulator(couriers_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A plain client on the emulator; every fault is healed before and after the test."""
    async with httpx.AsyncClient(base_url=couriers_url, timeout=10) as client:
        (await client.delete("/admin/faults")).raise_for_status()
        yield client
        (await client.delete("/admin/faults")).raise_for_status()


@pytest.fixture
async def gateway(
    couriers_url: str, emulator: httpx.AsyncClient
) -> AsyncIterator[HttpCourierGateway]:
    courier_gateway = HttpCourierGateway(couriers_url, timeout=2.0)
    yield courier_gateway
    await courier_gateway.aclose()


async def _fault(client: httpx.AsyncClient, company: str, mode: str, delay_ms: int = 0) -> None:
    response = await client.post(
        "/admin/faults", json={"company": company, "mode": mode, "delayMs": delay_ms}
    )
    response.raise_for_status()


async def _quote(client: httpx.AsyncClient, code: str, **params: Any) -> httpx.Response:
    return await client.get(f"/companies/{code}/quote", params=params)


async def test_three_companies_quote_different_costs_cheapest_first(
    gateway: HttpCourierGateway, emulator: httpx.AsyncClient
) -> None:
    companies = (await emulator.get("/companies")).json()
    assert {c["code"] for c in companies} == {"cdek", "boxberry", "pek"}

    quotes = await gateway.quotes(MOSCOW, ship_date=MONDAY)

    assert {q.company_code for q in quotes} == {"cdek", "boxberry", "pek"}
    assert {q.company_name for q in quotes} == {c["name"] for c in companies}
    assert len({q.cost_kopecks for q in quotes}) == 3
    assert [q.cost_kopecks for q in quotes] == sorted(q.cost_kopecks for q in quotes)
    assert all(q.cost_kopecks > 0 and q.cost_kopecks % 100 == 0 for q in quotes)


async def test_quotes_are_deterministic_and_a_farther_zone_costs_more(
    gateway: HttpCourierGateway,
) -> None:
    first = await gateway.quotes(MOSCOW, ship_date=MONDAY)
    again = await gateway.quotes(MOSCOW, ship_date=MONDAY)
    # Case, "ё" and runs of spaces do not change the address.
    respelled = await gateway.quotes("  москва,   УЛ. тверская,  1 ", ship_date=MONDAY)
    assert first == again == respelled
    assert await gateway.quotes("Тверская обл., пос. Озёрный", ship_date=MONDAY) == (
        await gateway.quotes("ТВЕРСКАЯ  ОБЛ., ПОС. ОЗЕРНЫЙ", ship_date=MONDAY)
    )

    far = {q.company_code: q for q in await gateway.quotes(NOVOSIBIRSK, ship_date=MONDAY)}
    for near in first:
        assert far[near.company_code].cost_kopecks > near.cost_kopecks
        assert far[near.company_code].estimated_date > near.estimated_date


async def test_zones_follow_the_place_words(emulator: httpx.AsyncClient) -> None:
    for address, zone in ADDRESSES_BY_ZONE.items():
        response = await _quote(emulator, "cdek", address=address, shipDate=MONDAY.isoformat())
        body = response.json()
        assert body["zone"] == zone, address
        assert body["estimatedDate"] > MONDAY.isoformat()


async def test_heavier_parcels_cost_more(emulator: httpx.AsyncClient) -> None:
    costs = {}
    for weight in (1, 1000, 1001, 2000, 50_000):
        response = await _quote(
            emulator, "pek", address=MOSCOW, shipDate=MONDAY.isoformat(), weightGrams=weight
        )
        costs[weight] = response.json()["costKopecks"]

    assert costs[1] == costs[1000] < costs[1001] == costs[2000] < costs[50_000]


async def test_estimated_dates_are_after_the_ship_date_and_never_sunday(
    gateway: HttpCourierGateway,
) -> None:
    for offset in range(14):  # every weekday twice, Saturday and Sunday ship dates included
        ship_date = MONDAY + timedelta(days=offset)
        for address in ADDRESSES_BY_ZONE:
            for q in await gateway.quotes(address, ship_date=ship_date):
                assert q.estimated_date > ship_date
                assert q.estimated_date.isoweekday() != 7, (address, ship_date, q)


async def test_a_company_that_is_down_is_left_out(
    gateway: HttpCourierGateway, emulator: httpx.AsyncClient
) -> None:
    await _fault(emulator, "boxberry", "down")
    down = await _quote(emulator, "boxberry", address=MOSCOW, shipDate="2025-06-02")
    assert down.status_code == 503

    quotes = await gateway.quotes(MOSCOW, ship_date=MONDAY)
    assert {q.company_code for q in quotes} == {"cdek", "pek"}

    await _fault(emulator, "boxberry", "none")
    quotes = await gateway.quotes(MOSCOW, ship_date=MONDAY)
    assert {q.company_code for q in quotes} == {"cdek", "boxberry", "pek"}


async def test_all_companies_down_is_a_retryable_unavailable_error(
    gateway: HttpCourierGateway, emulator: httpx.AsyncClient
) -> None:
    for code in ("cdek", "boxberry", "pek"):
        await _fault(emulator, code, "down")
    with pytest.raises(CourierUnavailableError) as caught:
        await gateway.quotes(MOSCOW, ship_date=MONDAY)
    assert isinstance(caught.value, UnavailableError)
    assert caught.value.retryable
    assert caught.value.code == "UnavailableError"


async def test_a_company_slower_than_the_timeout_is_left_out(
    couriers_url: str, emulator: httpx.AsyncClient
) -> None:
    await _fault(emulator, "cdek", "slow", delay_ms=1500)
    await _fault(emulator, "pek", "slow", delay_ms=100)
    gateway = HttpCourierGateway(couriers_url, timeout=0.5)
    try:
        started = time.monotonic()
        quotes = await gateway.quotes(MOSCOW, ship_date=MONDAY)
        elapsed = time.monotonic() - started
    finally:
        await gateway.aclose()
    assert {q.company_code for q in quotes} == {"boxberry", "pek"}
    assert elapsed < 1.2  # asked concurrently and cut at the timeout, not waited out


async def test_the_emulator_rejects_bad_input(emulator: httpx.AsyncClient) -> None:
    good: dict[str, Any] = {"address": MOSCOW, "shipDate": "2025-06-02", "weightGrams": 1000}
    bad_requests: list[dict[str, Any]] = [
        {**good, "address": ""},
        {**good, "address": "   "},
        {**good, "address": "а" * 301},
        {"shipDate": "2025-06-02"},
        {**good, "shipDate": "2025-13-40"},
        {**good, "shipDate": "02.06.2025"},
        {"address": MOSCOW},
        {**good, "weightGrams": 0},
        {**good, "weightGrams": 50_001},
        {**good, "weightGrams": "тяжёлая"},
    ]
    for params in bad_requests:
        response = await _quote(emulator, "cdek", **params)
        assert response.status_code == 400, params
        assert response.json()["errorMessage"], params
    longest = await _quote(emulator, "cdek", **{**good, "address": "а" * 300})
    assert longest.status_code == 200

    unknown = await _quote(emulator, "dhl", **good)
    assert unknown.status_code == 404
    assert "dhl" in unknown.json()["errorMessage"]

    fault = await emulator.post("/admin/faults", json={"company": "dhl", "mode": "down"})
    assert fault.status_code == 404
    assert "errorMessage" in fault.json()
    fault = await emulator.post("/admin/faults", json={"company": "cdek", "mode": "broken"})
    assert fault.status_code == 400


async def test_the_gateway_rejects_bad_input_without_asking(
    gateway: HttpCourierGateway,
) -> None:
    for address, weight in (("", 1000), ("  ", 1000), ("а" * 301, 1000), (MOSCOW, 0)):
        with pytest.raises(ValidationError):
            await gateway.quotes(address, ship_date=MONDAY, weight_grams=weight)


async def test_gateway_parses_sorts_caches_companies_and_drops_bad_answers() -> None:
    calls: list[str] = []
    answers: dict[str, Any] = {
        "a": {"name": "Альфа", "costKopecks": 50000, "estimatedDate": "2025-06-05"},
        "b": {"name": "Бета", "costKopecks": 30000, "estimatedDate": "2025-06-07"},
        "c": {"name": "Гамма", "costKopecks": 30000, "estimatedDate": "2025-06-04"},
        "d": {"name": "Дельта", "costKopecks": "дорого"},
        "e": None,  # 500
        "f": "not json",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/companies":
            return httpx.Response(200, json=[{"code": c, "name": c.upper()} for c in answers])
        assert request.url.params["shipDate"] == "2025-06-02"
        assert request.url.params["weightGrams"] == "2500"
        code = request.url.path.split("/")[2]
        answer = answers[code]
        if answer is None:
            return httpx.Response(500, json={"errorMessage": "boom"})
        if isinstance(answer, str):
            return httpx.Response(200, content=answer.encode())
        return httpx.Response(200, content=json.dumps(answer).encode())

    gateway = HttpCourierGateway("http://couriers.test", transport=httpx.MockTransport(handler))
    try:
        quotes = await gateway.quotes(MOSCOW, ship_date=MONDAY, weight_grams=2500)
        await gateway.quotes(MOSCOW, ship_date=MONDAY, weight_grams=2500)
    finally:
        await gateway.aclose()

    assert quotes == [
        CourierQuote("c", "Гамма", 30000, date(2025, 6, 4)),
        CourierQuote("b", "Бета", 30000, date(2025, 6, 7)),
        CourierQuote("a", "Альфа", 50000, date(2025, 6, 5)),
    ]
    assert calls.count("/companies") == 1


async def test_an_unreachable_company_list_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    gateway = HttpCourierGateway("http://couriers.test", transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(CourierUnavailableError):
            await gateway.quotes(MOSCOW, ship_date=MONDAY)
    finally:
        await gateway.aclose()


async def test_fake_gateway_answers_and_fails_on_request() -> None:
    offer = CourierQuote("pek", "ПЭК Доставка", 25000, date(2025, 6, 5))
    fake = FakeCourierGateway(offers=[offer], failures_left=1)
    with pytest.raises(CourierUnavailableError):
        await fake.quotes(MOSCOW, ship_date=MONDAY)
    assert await fake.quotes(MOSCOW, ship_date=MONDAY) == [offer]
    assert fake.asked == [MOSCOW, MOSCOW]
