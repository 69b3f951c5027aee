"""«Личный кабинет» in a real browser against the whole store (`shopflow dev`): the phone edited
and kept after a reload, an e-mail changed through the link read from the mailbox, and
«Завершить все другие сеансы» ending another browser's session."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.support.pages.customer import Customer, header, log_in, register_with_api
from tests.support.polling import eventually
from tests.support.store import MAIL_TIMEOUT_S, Store

pytestmark = pytest.mark.browser

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
CONFIRM_SUBJECT = "Подтвердите новый e-mail в Shopflow"
LINK = re.compile(r"http://\S+/account/email/confirm#\S+")


def confirmation_link(store: Store, to: str) -> str:
    def found() -> str | None:
        for mail in store.messages(to):
            match = LINK.search(mail["body"])
            if mail["subject"] == CONFIRM_SUBJECT and match:
                return match.group(0)
        return None

    return eventually(found, timeout=MAIL_TIMEOUT_S, what=f"the confirmation mail to {to}")


def edit_phone(page: Page) -> None:
    form = page.locator("#profile-form")
    phone = form.locator('input[name="phone"]')
    save = form.get_by_role("button", name="Сохранить")
    phone.fill("12")
    phone.blur()
    expect(form.locator('.field-error[data-for="phone"]')).to_have_text(re.compile(r"\S"))
    expect(save).to_be_disabled()
    phone.fill("+7 900 111-22-33")
    expect(save).to_be_enabled()
    save.click()
    expect(form.get_by_role("status")).to_have_text("Данные сохранены")
    page.reload()
    expect(phone).to_have_value("+79001112233")


def change_email(page: Page, store: Store, new_email: str) -> None:
    form = page.locator("#email-form")
    form.locator('input[name="email"]').fill(new_email)
    form.get_by_role("button", name="Отправить ссылку").click()
    expect(page.locator('[data-test="pending-email"]')).to_have_text(new_email)
    page.goto(confirmation_link(store, new_email))
    page.get_by_role("button", name="Подтвердить новый e-mail").click()
    expect(page.locator('[data-test="new-email"]')).to_have_text(new_email, timeout=20_000)
    page.get_by_role("link", name="Перейти в личный кабинет").click()
    expect(page.locator('[data-test="email"]')).to_have_text(new_email)


@pytest.mark.timeout(150)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_shopper_edits_details_changes_email_and_ends_other_sessions(
    page: Page, browser: Browser, store: Store, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)
    customer = Customer.new()
    register_with_api(page, customer)
    other = browser.new_context(base_url=store.base_url, locale="ru-RU")
    try:
        elsewhere = other.new_page()  # e.g. a stolen cookie, or a forgotten computer
        elsewhere.goto("/")
        log_in(elsewhere, customer.username, customer.password)
        expect(header(elsewhere).get_by_role("link", name="Личный кабинет")).to_be_visible()

        page.goto("/")
        log_in(page, customer.username, customer.password)
        header(page).get_by_role("link", name="Личный кабинет", exact=True).click()
        expect(page).to_have_url(re.compile(r"/account$"))
        expect(page.locator('[data-test="wallet-balance"]')).to_contain_text("0,00")

        edit_phone(page)
        change_email(page, store, f"new-{customer.email}")

        sessions = page.locator("#sessions li")
        expect(sessions).to_have_count(2)
        expect(page.locator("#sessions li.current")).to_contain_text("этот сеанс")
        page.get_by_role("button", name="Завершить все другие сеансы").click()
        expect(page.locator("#sessions-done")).to_have_text("Другие сеансы завершены: 1")
        expect(sessions).to_have_count(1)

        elsewhere.reload()
        expect(header(elsewhere).get_by_role("link", name="Войти")).to_be_visible()
        assert elsewhere.request.get("/auth/auth").status == 401
        page.reload()
        expect(page.locator('[data-test="username"]')).to_have_text(customer.username)
    finally:
        other.close()
