"""The limit on wrong gift card activation codes on «Активировать подарочную карту», in Chromium
against the whole store (`shopflow dev`, its default limit of 5 wrong codes per shopper in 15
minutes): each wrong code says «не найдена»; the next try gets 429 with Retry-After, and the form
says in Russian when to try again, without marking the code as wrong.

At a desktop and at a phone size. Each run spends 5 of the 20 wrong codes the address 127.0.0.1
may try in the window: the store is shared by the whole browser suite."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, ViewportSize, expect

from services import billing
from tests.support.pages.customer import Customer, field, register_with_api
from tests.support.store import Store

pytestmark = pytest.mark.browser

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
WRONG_CODES = 5  # SHOP_ACTIVATION_WRONG_CODES_PER_SHOPPER's default
WINDOW_SECONDS = 15 * 60  # SHOP_ACTIVATION_WINDOW_MINUTES's default
LIMITED = "Слишком много неверных кодов. Попробуйте снова через 15 мин."


def wrong_code(n: int) -> str:
    return billing.format_code(billing.issue_code(f"browser-never-issued-{n}", "another-secret"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_too_many_wrong_codes_on_the_activation_page(
    page: Page, store: Store, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)
    customer = Customer.new()
    register_with_api(page, customer)
    page.goto("/giftcard/activate")
    expect(page).to_have_url(re.compile(r"/login\?next=/giftcard/activate$"))
    field(page, "username").fill(customer.username)
    field(page, "password").fill(customer.password)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Активировать подарочную карту")).to_be_visible()

    code = page.get_by_label("Код активации")
    problem = page.locator("#activation-error")
    for n in range(WRONG_CODES):
        code.fill(wrong_code(n))
        with page.expect_response(_activation_post) as answered:
            page.get_by_role("button", name="активировать").click()
        assert answered.value.status == 404
        expect(problem).to_contain_text("не найдена")
        expect(code).to_have_attribute("aria-invalid", "true")

    code.fill(wrong_code(WRONG_CODES))
    with page.expect_response(_activation_post) as answered:
        page.get_by_role("button", name="активировать").click()
    assert answered.value.status == 429
    assert 0 < int(answered.value.headers["retry-after"]) <= WINDOW_SECONDS
    expect(problem).to_have_text(LIMITED)
    expect(problem).to_be_in_viewport()
    expect(code).not_to_have_attribute("aria-invalid", "true")  # the code may well be right
    expect(page.get_by_role("button", name="активировать")).to_be_visible()
    box = problem.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= viewport["width"], "the message fits the screen"


def _activation_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/giftcard/activate")
