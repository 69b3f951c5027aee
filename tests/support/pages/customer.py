"""A customer of the store in the browser: who they are, the page's header and form fields,
registering through the API (a set-up shortcut) and logging in through the header."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

# Steps that run a workflow (registration waits for it) get more than expect's default 5 s.
WORKFLOW_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Customer:
    username: str
    first_name: str
    last_name: str
    password: str
    email: str
    phone: str

    @classmethod
    def new(cls) -> Customer:
        username = f"u_{uuid.uuid4().hex[:24]}"  # [a-z0-9_], 26 characters
        return cls(
            username=username,
            first_name="Анна",
            last_name="Петрова",
            password="s3cret-pass-42",
            email=f"{username}@example.ru",
            phone="+7 912 345-67-89",
        )

    def as_json(self) -> dict[str, str]:
        return {
            "username": self.username,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "password": self.password,
            "email": self.email,
            "phone": self.phone,
        }


def header(page: Page) -> Locator:
    return page.get_by_role("banner")


def field(page: Page, name: str) -> Locator:
    return page.locator(f'form input[name="{name}"]')


def register_with_api(page: Page, customer: Customer) -> None:
    """Setup shortcut for tests about something else: POST /auth/register as the form does."""
    response = page.request.post(
        "/auth/register", data=customer.as_json(), timeout=WORKFLOW_TIMEOUT_MS
    )
    assert response.status == 200, response.text()


def log_in(page: Page, username: str, password: str) -> None:
    header(page).get_by_role("link", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/login(\?|$)"))
    field(page, "username").fill(username)
    field(page, "password").fill(password)
    page.get_by_role("button", name="Войти").click()
