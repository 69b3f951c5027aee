"""Login's `next`: only ever a path of this store (edge/redirects.py `safe_path`)."""

from __future__ import annotations

import html
import re

import pytest

from edge.redirects import safe_path
from tests.support.shop import Shop

HTML = {"accept": "text/html"}

# Each is a way off the store that the old check (starts with "/", not with "//") let through.
OFF_SITE = [
    "/\\evil.example",  # a browser reads "\" as "/": //evil.example
    "/\\/evil.example",
    "/\t/evil.example",  # a browser drops tabs and newlines: //evil.example
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/ /evil.example",
    "/\u3000/evil.example",
    "/\u200b/evil.example",
    "/%5Cevil.example",  # the same, encoded once more
    "/%2F/evil.example",
    "/%09/evil.example",
]
# Refused before too: kept refused.
NOT_PATHS = ["", "evil.example", "//evil.example", "https://evil.example", "javascript:alert(1)"]


@pytest.mark.parametrize("target", OFF_SITE + NOT_PATHS)
def test_a_way_off_the_store_becomes_home(target: str) -> None:
    assert safe_path(target) == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/cart", "/cart"),
        ("/checkout/ab-12#payment", "/checkout/ab-12#payment"),
        ("/search?q=чайник&page=2", "/search?q=%D1%87%D0%B0%D0%B9%D0%BD%D0%B8%D0%BA&page=2"),
        # forms.js fills `{name}` in a form's data-success: braces never reach it.
        ("/{x}/evil.example", "/%7Bx%7D/evil.example"),
    ],
)
def test_a_path_of_the_store_stays(target: str, expected: str) -> None:
    assert safe_path(target) == expected


def _success_target(page: str) -> str:
    found = re.search(r'id="login-form"[^>]*data-success="([^"]*)"', page)
    assert found, "the login form"
    return html.unescape(found.group(1))


def _as_forms_js_goes(target: str) -> str:
    """Where forms.js sends the browser: data-success with `{name}` filled (here: emptied)."""
    return re.sub(r"\{(\w+)\}", "", target)


@pytest.mark.parametrize(
    "query",
    [
        "next=/%5Cevil.example",
        "next=/%5C%5Cevil.example",
        "next=/%5C/evil.example",
        "next=/%E3%80%80/evil.example",
        "next=/%7Bx%7D/evil.example",  # was "/{x}/evil.example": forms.js made it //evil.example
        "next=/%252F/evil.example",
        "next=//evil.example",
        "next=https://evil.example",
    ],
)
async def test_the_login_page_sends_only_to_a_path_of_the_store(shop: Shop, query: str) -> None:
    response = await shop.http.get(f"/login?{query}", headers=HTML)
    assert response.status_code == 200
    target = _as_forms_js_goes(_success_target(response.text))
    assert target.startswith("/")
    assert not target.startswith("//")
    assert "\\" not in target
    assert safe_path(target) == target


async def test_a_control_character_in_next_is_refused_at_the_edge(shop: Shop) -> None:
    # edge/limits.py refuses a decoded control character in the query before any page.
    assert (await shop.http.get("/login?next=/%09/evil.example", headers=HTML)).status_code == 400


async def test_the_login_page_keeps_a_path_of_the_store(shop: Shop) -> None:
    response = await shop.http.get("/login?next=/checkout/ab-12", headers=HTML)
    assert _success_target(response.text) == "/checkout/ab-12"
