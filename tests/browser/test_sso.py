"""«Войти через …» in a real browser, on a phone and a desktop, against the whole store started
by `shopflow dev` and its sign-in provider emulator (PyPI oidc-provider-mock): a new shopper signs
in through the provider, completes the registration the provider's claims began, lands logged in
with a wallet, signs out and back in to the same account; the store's SSO pages fit the screen
and pass axe-core."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.pages.audit import SCREENS, Audit
from tests.support.pages.customer import WORKFLOW_TIMEOUT_MS, field, header
from tests.support.store import Store
from workers.dev import DEV_SSO_TITLE

pytestmark = pytest.mark.browser

BUTTON = f"Войти через {DEV_SSO_TITLE}"


def provider_knows(store: Store, sub: str, **claims: object) -> None:
    response = httpx.put(f"{store.oidc_url}/users/{sub}", json=claims, timeout=5.0)
    response.raise_for_status()


def through_the_provider(page: Page, sub: str) -> None:
    """From the store's login page to the provider's form, signed in there as `sub`."""
    page.goto("/login")
    page.get_by_role("link", name=BUTTON).click()
    expect(page).to_have_url(re.compile(r"/oauth2/authorize\?"))
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize").click()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_a_new_shopper_signs_in_through_the_provider_and_back_again(
    browser: Browser, store: Store, screen: str
) -> None:
    options = SCREENS[screen]
    context = browser.new_context(base_url=store.base_url, locale="ru-RU", **options)
    page = context.new_page()
    audit = Audit(page, options["viewport"]["width"])
    sub = f"shopper-{uuid.uuid4().hex[:10]}"
    email = f"{sub}@mail.example"
    provider_knows(
        store, sub, email=email, email_verified=True, given_name="Вера", family_name="Соколова"
    )
    try:
        through_the_provider(page, sub)
        expect(page).to_have_url(re.compile(r"/auth/sso/register$"))
        expect(
            page.get_by_role("heading", name=f"Регистрация через {DEV_SSO_TITLE}")
        ).to_be_visible()
        audit.check("SSO: complete the registration")
        expect(field(page, "firstName")).to_have_value("Вера")
        expect(field(page, "email")).to_have_value(email)
        username = f"v{uuid.uuid4().hex[:10]}"
        field(page, "username").fill(username)
        field(page, "phone").fill("+7 912 000-11-22")
        page.get_by_role("button", name="Зарегистрироваться").click()

        # Signed in at once, with the wallet the Registration workflow opened.
        expect(page).to_have_url(re.compile(r"/$"), timeout=WORKFLOW_TIMEOUT_MS)
        page.goto("/account")
        expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
        expect(page.locator('[data-test="wallet-balance"]')).to_contain_text("0")
        expect(page.locator("#linked-providers")).to_contain_text(DEV_SSO_TITLE)
        audit.check("account with a linked provider")

        header(page).get_by_role("button", name="Выйти").click()
        expect(header(page).get_by_role("link", name="Войти")).to_be_visible()
        through_the_provider(page, sub)
        expect(page).to_have_url(re.compile(r"/$"))
        header(page).get_by_role("link", name="Личный кабинет").click()
        expect(page.locator("#linked-providers")).to_contain_text(email)
        expect(page.get_by_text(username)).to_be_visible()
    finally:
        context.close()
    assert not audit.problems, "\n".join(audit.problems)
