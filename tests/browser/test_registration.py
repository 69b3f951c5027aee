"""Spec scenario «Регистрация нового клиента» in a real browser, against the whole store started
by `shopflow dev` (see conftest.py)."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from temporalio.client import Client, WorkflowExecutionStatus

from tests.support.pages.customer import (
    WORKFLOW_TIMEOUT_MS,
    Customer,
    field,
    header,
    log_in,
    register_with_api,
)
from tests.support.polling import eventually
from tests.support.store import MAIL_TIMEOUT_S, Store

pytestmark = pytest.mark.browser

WELCOME_SUBJECT = "Добро пожаловать в Shopflow"
REGISTRATION_ACTIVITIES = {
    "auth.create_user",
    "billing.open_wallet",
    "payment.create_profile",
    "notification.create_account",
    "notification.send_welcome_mail",
}


def field_error(page: Page, name: str) -> Locator:
    return page.locator(f'form .field-error[data-for="{name}"]')


def open_registration(page: Page) -> Locator:
    """From the home page to the registration form; returns its submit button."""
    page.goto("/")
    header(page).get_by_role("link", name="Зарегистрироваться").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    return page.get_by_role("button", name="Зарегистрировать")


def register_with_form(page: Page, customer: Customer) -> None:
    button = open_registration(page)
    for name, value in customer.as_json().items():
        field(page, name).fill(value)
    expect(button).to_be_enabled()
    button.click()
    expect(page).to_have_url(re.compile(r"/register/done\?"), timeout=WORKFLOW_TIMEOUT_MS)
    expect(page.locator("#registration-result")).to_contain_text("Регистрация завершена")


def welcome_mail(store: Store, email: str) -> dict[str, Any] | None:
    return next((m for m in store.messages(email) if m["subject"] == WELCOME_SUBJECT), None)


def session_cookies(page: Page) -> list[str]:
    return [c.get("value", "") for c in page.context.cookies() if c.get("name") == "sessionId"]


def test_new_customer_registers_gets_mail_and_logs_in(page: Page, store: Store) -> None:
    customer = Customer.new()

    # 1. The registration page: every field of the spec, the password masked, the button disabled.
    button = open_registration(page)
    expect(page.get_by_role("heading", name="Регистрация нового клиента")).to_be_visible()
    for name in ("username", "firstName", "lastName", "password", "email", "phone"):
        expect(field(page, name)).to_be_visible()
    expect(field(page, "password")).to_have_attribute("type", "password")
    expect(button).to_be_disabled()

    # 2. The button stays disabled while a required field is missing or invalid.
    field(page, "username").fill(customer.username)
    expect(button).to_be_disabled()
    field(page, "firstName").fill(customer.first_name)
    expect(button).to_be_disabled()
    field(page, "lastName").fill(customer.last_name)
    expect(button).to_be_disabled()
    field(page, "password").fill(customer.password)
    expect(button).to_be_disabled()
    email = field(page, "email")
    email.fill("not-an-email")
    expect(button).to_be_disabled()
    email.blur()
    expect(field_error(page, "email")).to_be_visible()
    expect(field_error(page, "email")).to_have_text(re.compile(r"\S"))
    expect(email).to_have_attribute("aria-invalid", "true")
    field(page, "phone").fill(customer.phone)
    expect(button).to_be_disabled()
    email.fill(customer.email)
    expect(field_error(page, "email")).to_have_text("")
    expect(button).to_be_enabled()

    # 3. Registration completes and says so, naming the login.
    button.click()
    expect(page).to_have_url(re.compile(r"/register/done\?"), timeout=WORKFLOW_TIMEOUT_MS)
    result = page.locator("#registration-result")
    expect(result).to_contain_text("Регистрация завершена")
    expect(result).to_contain_text(customer.username)

    # 4. The welcome mail reached the mailbox, and the mailbox page lists it.
    mail = eventually(
        lambda: welcome_mail(store, customer.email), timeout=MAIL_TIMEOUT_S, what="the welcome mail"
    )
    assert customer.username in mail["body"]
    page.goto(f"{store.mailbox_url}/")
    row = page.get_by_role("row").filter(has_text=customer.email)
    expect(row.get_by_role("link", name=WELCOME_SUBJECT)).to_be_visible()

    # 5. Log in, see the account with an empty wallet, log out.
    page.goto("/")
    log_in(page, customer.username, customer.password)
    expect(page).to_have_url(re.compile(r"/$"))
    account_link = header(page).get_by_role("link", name="Личный кабинет", exact=True)
    expect(account_link).to_be_visible()
    account_link.click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator('[data-test="username"]')).to_have_text(customer.username)
    expect(page.get_by_text("Баланс кошелька:")).to_be_visible()
    expect(page.locator('[data-test="wallet-balance"]')).to_contain_text("0,00")

    header(page).get_by_role("button", name="Выйти").click()
    expect(header(page).get_by_role("link", name="Войти")).to_be_visible()
    expect(header(page).get_by_role("link", name="Личный кабинет")).to_have_count(0)
    assert page.request.get("/auth/auth").status == 401
    assert not any(session_cookies(page))


def test_taken_username_is_reported_under_the_field(page: Page) -> None:
    taken = Customer.new()
    register_with_api(page, taken)
    newcomer = Customer.new()

    button = open_registration(page)
    for name, value in newcomer.as_json().items():
        field(page, name).fill(taken.username if name == "username" else value)
    expect(button).to_be_enabled()
    button.click()

    expect(page.get_by_role("alert")).to_have_text("Пользователь уже существует")
    expect(page).to_have_url(re.compile(r"/register$"))
    expect(field_error(page, "username")).to_have_text("этот логин уже занят")
    expect(field(page, "username")).to_have_attribute("aria-invalid", "true")
    expect(button).to_be_disabled()  # until the refused field is changed
    field(page, "username").fill(newcomer.username)
    expect(field_error(page, "username")).to_have_text("")
    expect(button).to_be_enabled()
    button.click()
    expect(page.locator("#registration-result")).to_contain_text("Регистрация завершена")


def test_wrong_password_is_refused(page: Page) -> None:
    customer = Customer.new()
    register_with_api(page, customer)

    page.goto("/")
    log_in(page, customer.username, "wrong-password-1")

    expect(page.get_by_role("alert")).to_have_text("Неверный логин или пароль")
    expect(page).to_have_url(re.compile(r"/login(\?|$)"))
    assert not any(session_cookies(page))
    assert page.request.get("/auth/auth").status == 401


async def _registration_run(
    address: str, username: str
) -> tuple[WorkflowExecutionStatus, set[str]]:
    client = await Client.connect(address)
    handle = client.get_workflow_handle(f"registration-{username}")
    description = await handle.describe()
    history = await handle.fetch_history()
    activities = {
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    }
    assert description.status is not None
    return description.status, activities


def test_operator_sees_the_completed_registration_run(page: Page, store: Store) -> None:
    customer = Customer.new()
    register_with_form(page, customer)

    # Playwright's sync API keeps its own event loop running on this thread: use another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        status, activities = pool.submit(
            lambda: asyncio.run(_registration_run(store.temporal_address, customer.username))
        ).result(timeout=60)

    assert status == WorkflowExecutionStatus.COMPLETED
    assert activities >= REGISTRATION_ACTIVITIES, sorted(REGISTRATION_ACTIVITIES - activities)
