"""Search over the sample catalogue as a shopper types it: the typos that used to find nothing
(«чайнек», «пылисос», «bossch», «кофеворка») find their products, in the JSON contract and on the
page («Вы искали: …», its pages linked with the corrected query); suggestions while typing."""

from __future__ import annotations

import pytest

from tests.support.shop import Shop

TYPOS = [
    ("чайнек", "чайник"),
    ("пылисос", "пылесос"),
    ("bossch", "bosch"),
    ("кофеворка", "кофеварка"),
]


@pytest.mark.parametrize(("typed", "meant"), TYPOS)
async def test_a_typo_finds_what_was_meant(seeded: Shop, typed: str, meant: str) -> None:
    body = (await seeded.http.get("/store/search", params={"q": typed})).json()
    assert body["corrected"] == meant
    assert body["query"] == typed
    assert body["items"], typed
    assert all(meant in card["name"].lower() for card in body["items"]), typed


async def test_a_query_found_as_typed_has_no_correction(seeded: Shop) -> None:
    body = (await seeded.http.get("/store/search", params={"q": "чайник"})).json()
    assert body["items"]
    assert body["corrected"] is None


async def test_the_page_says_what_it_searched(seeded: Shop) -> None:
    html = (await seeded.http.get("/search", params={"q": "bossch"})).text
    assert "Вы искали: <b>bosch</b>" in html
    assert html.count('data-test="product-card"') > 0
    assert "q=bossch" not in html, "its links carry the corrected query"


async def test_suggestions_follow_what_is_typed(seeded: Shop) -> None:
    typed = (await seeded.http.get("/store/suggest", params={"q": "пылес"})).json()
    assert 1 <= len(typed) <= 8
    assert all("пылесос" in item["name"].lower() and item["id"] for item in typed)
    mistyped = (await seeded.http.get("/store/suggest", params={"q": "пылисос"})).json()
    assert mistyped
    assert all("пылесос" in item["name"].lower() for item in mistyped)
    assert (await seeded.http.get("/store/suggest", params={"q": ""})).json() == []


async def test_health_says_when_search_reads_its_in_memory_index(seeded: Shop) -> None:
    (await seeded.http.get("/store/search", params={"q": "чайник"})).raise_for_status()
    health = (await seeded.http.get("/healthz")).json()
    assert health == {"status": "ok", "searchIndex": "ready"}
