"""store and delivery contracts (spec section 4): fields, statuses, and the search endpoint."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

import httpx
import pytest

from core.timeutil import to_moscow, utcnow
from tests.support.shop import Shop


async def _first_product_id(http: httpx.AsyncClient, query: str) -> int:
    page = (await http.get("/store/search", params={"q": query})).json()
    product_id: int = page["items"][0]["id"]
    return product_id


async def test_store_get_lists_every_store_with_its_quantity(seeded: Shop) -> None:
    product_id = await _first_product_id(seeded.http, "чайник")
    response = await seeded.http.get("/store/get", params={"productId": product_id})

    assert response.status_code == 200
    body = response.json()
    assert body["productId"] == product_id
    assert len(body["productPlaces"]) == 4
    for place in body["productPlaces"]:
        assert set(place) == {"store", "quantity"}
        assert set(place["store"]) == {"id", "name", "address"}
        assert isinstance(place["quantity"], int)
        assert place["quantity"] >= 0


async def test_store_get_statuses(seeded: Shop) -> None:
    assert (await seeded.http.get("/store/get", params={"productId": 999_999})).status_code == 404
    assert (await seeded.http.get("/store/get", params={"productId": "abc"})).status_code == 400
    assert (await seeded.http.get("/store/get")).status_code == 400
    seeded.http.cookies.clear()
    anonymous = await seeded.http.get("/store/get", params={"productId": 1})
    assert anonymous.status_code == 401
    assert "errorMessage" in anonymous.json()


async def test_search_answers_cards_with_the_four_fields_of_the_spec(seeded: Shop) -> None:
    response = await seeded.http.get("/store/search", params={"q": "чайники", "pageSize": 5})
    assert response.status_code == 200
    page = response.json()
    assert page["hasMore"] is True
    assert len(page["items"]) == 5
    for card in page["items"]:
        assert "Чайник" in card["name"]
        assert isinstance(card["price"], float)
        assert card["imageUrl"] == f"/store/images/{card['id']}.svg"
        assert len(card["productPlaces"]) == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "я" * 201}, "q"),
        ({"q": "!!!"}, "q"),
        ({"q": "чай", "page": "x"}, "page"),
    ],
)
async def test_search_bad_input_is_400_never_500(
    seeded: Shop, params: dict[str, str], field: str
) -> None:
    response = await seeded.http.get("/store/search", params=params)
    assert response.status_code == 400
    assert field in response.json().get("fields", {})


async def test_product_pictures_are_svg_drawn_by_the_app(seeded: Shop) -> None:
    product_id = await _first_product_id(seeded.http, "сковорода")
    response = await seeded.http.get(f"/store/images/{product_id}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.text)  # noqa: S314 - our own SVG, parsed to prove it is well-formed
    assert root.tag.endswith("svg")
    assert "Сковорода" in (root.get("aria-label") or "")
    assert (await seeded.http.get("/store/images/999999.svg")).status_code == 404


async def test_pickup_points_with_and_without_a_filter(seeded: Shop) -> None:
    everything = await seeded.http.get("/delivery/points")
    spb = await seeded.http.get("/delivery/points", params={"addressFilter": "петербург"})

    assert everything.status_code == 200
    assert len(everything.json()["pickupPoints"]) == 8
    points = spb.json()["pickupPoints"]
    assert points
    assert all("Петербург" in p["address"] for p in points)
    assert set(points[0]) == {"id", "name", "address"}
    seeded.http.cookies.clear()
    assert (await seeded.http.get("/delivery/points")).status_code == 401


async def test_variants_from_own_couriers_and_three_companies(seeded: Shop) -> None:
    response = await seeded.http.get(
        "/delivery/variants", params={"address": "Москва, ул. Арбат, 10"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["address"] == "Москва, ул. Арбат, 10"
    companies = [v["companyName"] for v in body["variants"]]
    assert companies[0] == "Shopflow Курьер"
    assert len(companies) == 4
    today = to_moscow(utcnow()).date()
    for variant in body["variants"]:
        assert isinstance(variant["cost"], float)
        assert variant["cost"] > 0
        assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", variant["estimatedDate"])
        assert datetime.strptime(variant["estimatedDate"], "%d.%m.%Y").date() > today


async def test_far_addresses_cost_more_and_have_no_own_courier(seeded: Shop) -> None:
    moscow = (
        await seeded.http.get("/delivery/variants", params={"address": "Москва, Арбат, 10"})
    ).json()
    far = (
        await seeded.http.get(
            "/delivery/variants", params={"address": "Новосибирск, Красный пр., 10"}
        )
    ).json()
    by_company = {v["companyName"]: v["cost"] for v in moscow["variants"]}
    assert "Shopflow Курьер" not in {v["companyName"] for v in far["variants"]}
    for variant in far["variants"]:
        assert variant["cost"] > by_company[variant["companyName"]]


async def test_variants_statuses(seeded: Shop) -> None:
    assert (await seeded.http.get("/delivery/variants", params={"address": " "})).status_code == 400
    assert (
        await seeded.http.get("/delivery/variants", params={"address": "д" * 301})
    ).status_code == 400
    async with httpx.AsyncClient(base_url=seeded.couriers_url) as emulator:
        for code in ("cdek", "boxberry", "pek"):
            await emulator.post("/admin/faults", json={"company": code, "mode": "down"})
        try:
            moscow = await seeded.http.get(
                "/delivery/variants", params={"address": "Москва, Арбат, 10"}
            )
            far = await seeded.http.get(
                "/delivery/variants", params={"address": "Казань, Баумана, 1"}
            )
        finally:
            await emulator.delete("/admin/faults")
    assert [v["companyName"] for v in moscow.json()["variants"]] == ["Shopflow Курьер"]
    assert far.status_code == 503
    assert "errorMessage" in far.json()
    seeded.http.cookies.clear()
    assert (
        await seeded.http.get("/delivery/variants", params={"address": "Москва"})
    ).status_code == 401


async def test_a_cached_page_echoes_the_query_as_typed(seeded: Shop) -> None:
    first = (await seeded.http.get("/store/search", params={"q": "чайник"})).json()
    second = (await seeded.http.get("/store/search", params={"q": "  ЧАЙНИК "})).json()
    assert second["query"] == "  ЧАЙНИК "
    assert second["items"] == first["items"]
