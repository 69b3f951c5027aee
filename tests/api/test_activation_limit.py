"""The limit on wrong gift card activation codes through `POST /payment/activate`,
`POST /payment/tokens/add` and the page `POST /giftcard/activate`: wrong codes answer 404 up to
the limit (5 per shopper by default), then 429 with Retry-After in the spec's error shape, for a
correct code too; another shopper from another client address is not limited; once the window
has passed activation works again."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from core.db import transaction
from models.billing import ActivationAttempt
from services import billing
from tests.support.auth import log_in_new_customer
from tests.support.billing import issue, shopper, tokens
from tests.support.errors import assert_error, assert_limited
from tests.support.shop import Shop, api_settings, from_another_address

SETTINGS = api_settings()
PER_SHOPPER = SETTINGS.activation_wrong_codes_per_shopper
WINDOW = timedelta(minutes=SETTINGS.activation_window_minutes)
LIMITED = "Слишком много неверных кодов. Попробуйте снова через 15 мин."
HTML = {"accept": "text/html"}


def wrong_code(n: int) -> str:
    return billing.format_code(billing.issue_code(f"never-issued-{n}", "another-secret"))


async def guess_wrong_to_the_limit(shop: Shop) -> None:
    """The shopper's wrong codes up to the limit, through both contracts: each still 404."""
    for n in range(PER_SHOPPER):
        response = await shop.http.post(
            "/payment/tokens/add" if n % 2 else "/payment/activate",
            json={"tokenType": "GIFT_CARD", "activationCode": wrong_code(n)},
        )
        assert_error(response, 404, "activationCode")


def assert_refused(response: httpx.Response) -> int:
    return assert_limited(response, LIMITED, WINDOW)


async def test_wrong_codes_then_429_even_for_a_correct_code(shop: Shop) -> None:
    card = await issue(shop, 700, "giftcard-limit-1")
    code = card["activationCode"]
    username = await shopper(shop)
    await guess_wrong_to_the_limit(shop)

    assert_refused(await shop.http.post("/payment/activate", json={"activationCode": "X" * 16}))
    assert_refused(await shop.http.post("/payment/activate", json={"activationCode": code}))
    assert_refused(
        await shop.http.post(
            "/payment/tokens/add", json={"tokenType": "GIFT_CARD", "activationCode": code}
        )
    )
    assert (await tokens(shop, username))["tokens"][1:] == [], "the card stays unbound"

    # Another shopper, connecting from another address, is not limited.
    async with from_another_address(shop) as other:
        await log_in_new_customer(other)
        activated = await other.post("/payment/activate", json={"activationCode": code})
    assert activated.status_code == 200, activated.text
    assert activated.json()["id"] == card["id"]


async def test_after_the_window_activation_works_again(shop: Shop) -> None:
    card = await issue(shop, 300, "giftcard-limit-2")
    await shopper(shop)
    await guess_wrong_to_the_limit(shop)
    assert_refused(
        await shop.http.post("/payment/activate", json={"activationCode": card["activationCode"]})
    )

    async with transaction(shop.sessions) as session:  # the window passes: no sleeping
        for attempt in (await session.exec(select(ActivationAttempt))).all():
            attempt.at -= WINDOW
            session.add(attempt)
    activated = await shop.http.post(
        "/payment/activate", json={"activationCode": card["activationCode"]}
    )
    assert activated.status_code == 200, activated.text
    assert activated.json()["balance"] == 300


async def test_the_page_shows_the_limit_with_429(shop: Shop) -> None:
    card = await issue(shop, 500, "giftcard-limit-3")
    username = await shopper(shop)
    for n in range(PER_SHOPPER):
        wrong = await shop.http.post(
            "/giftcard/activate", data={"activationCode": wrong_code(n)}, headers=HTML
        )
        assert wrong.status_code == 404
        assert "не найдена" in wrong.text

    for code in (wrong_code(PER_SHOPPER), card["activationCode"]):
        limited = await shop.http.post(
            "/giftcard/activate", data={"activationCode": code}, headers=HTML
        )
        assert limited.status_code == 429
        assert 0 < int(limited.headers["Retry-After"]) <= WINDOW.total_seconds()
        assert LIMITED in limited.text
        assert 'aria-invalid="true"' not in limited.text, "the code typed may well be right"
        assert 'name="activationCode"' in limited.text, "the form stays, to try again later"
    assert (await tokens(shop, username))["tokens"][1:] == []
