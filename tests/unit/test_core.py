"""Money, settings and input rules: the pieces every layer leans on."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from core.db import normalize_database_url
from core.errors import AlreadyExistsError, ConflictError, DomainError, error_class
from core.money import format_roubles, to_kopecks, to_roubles
from core.pg_reads import asyncpg_dsn
from core.settings import Settings
from core.sqlite_reads import sqlite_file
from models.auth import RegisterRequest, normalize_phone


def test_money_round_trips_exactly_and_refuses_fractions_of_a_kopeck() -> None:
    assert to_kopecks("1234.5") == 123450
    assert to_kopecks(Decimal("0.01")) == 1
    assert to_roubles(123450) == Decimal("1234.50")
    assert format_roubles(123450) == "1\u00a0234,50\u00a0₽"
    for bad in ("0.001", "abc", "NaN", "Infinity"):
        with pytest.raises(ValueError, match="amount"):
            to_kopecks(bad)


def test_database_urls_are_normalized_to_async_drivers() -> None:
    assert normalize_database_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalize_database_url("sqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"
    assert Settings(database_url="postgres://u@h/db").database_url.startswith("postgresql+asyncpg")


def test_settings_default_to_a_sqlite_file_under_the_data_dir() -> None:
    settings = Settings(data_dir="var-test", _env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///var-test/shop.db"
    assert settings.public_url == "http://127.0.0.1:8000"


def test_secrets_never_show_in_the_settings_printed_or_logged() -> None:
    settings = Settings(service_key="s3cr3t-service", _env_file=None)
    shown = f"{settings!r} {settings} {settings.model_dump()}"
    for secret in ("s3cr3t-service", "dev-bank-callback-secret", "dev-gift-card-secret"):
        assert secret not in shown
    assert settings.service_key.get_secret_value() == "s3cr3t-service"


def test_production_refuses_insecure_cookies_sqlite_and_dev_secrets() -> None:
    own_secrets: dict[str, Any] = {
        "bank_callback_secret": "b" * 32,
        "service_key": "s" * 32,
        "gift_card_secret": "g" * 32,
        "sms_api_key": "k" * 32,
        "account_secret": "a" * 32,
    }
    with pytest.raises(ValidationError, match="COOKIE_SECURE"):
        Settings(environment="production", database_url="postgres://u@h/db", **own_secrets)
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(environment="production", cookie_secure=True, **own_secrets)
    with pytest.raises(ValidationError, match="SHOP_SERVICE_KEY"):
        Settings(environment="production", cookie_secure=True, database_url="postgres://u@h/db")
    Settings(
        environment="production",
        cookie_secure=True,
        database_url="postgres://u@h/db",
        **own_secrets,
    )


def test_error_codes_map_back_to_their_classes() -> None:
    assert error_class("AlreadyExistsError") is AlreadyExistsError
    assert issubclass(AlreadyExistsError, ConflictError)
    assert AlreadyExistsError.http_status == 409
    assert error_class("no-such-code") is DomainError


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("+7 (912) 345-67-89", "+79123456789"),
        ("8 912 345 67 89", "+79123456789"),
        ("9123456789", "+79123456789"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_are_normalized(raw: str, normalized: str) -> None:
    assert normalize_phone(raw) == normalized


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "username": "alice",
        "firstName": "Алиса",
        "lastName": "Иванова-Петрова",
        "email": "Alice@Example.RU",
        "phone": "+7 912 345-67-89",
        "password": "  spaces are kept  ",
    }
    form.update(overrides)
    return form


def test_registration_form_is_cleaned_but_password_is_kept_verbatim() -> None:
    request = RegisterRequest.model_validate(_form(username="  alice "))
    assert request.username == "alice"
    assert request.email == "alice@example.ru"
    assert request.phone == "+79123456789"
    assert request.password == "  spaces are kept  "


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "al"),
        ("username", "алиса"),
        ("firstName", "123"),
        ("email", "not-an-email"),
        ("phone", "12345"),
        ("password", "short"),
    ],
)
def test_registration_form_rejects_bad_fields(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RegisterRequest.model_validate(_form(**{field: value}))
    assert caught.value.errors()[0]["loc"] == (field,)


def test_ttl_cache_forgets_stale_and_least_recent_entries() -> None:
    from core.cache import TTLCache

    now = [0.0]
    cache = TTLCache[str](ttl=5, max_entries=2, clock=lambda: now[0])
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # "a" is now the most recent
    cache.put("c", "C")
    assert cache.get("b") is None, "the least recently used entry made room"
    now[0] = 5.5
    assert cache.get("a") is None, "older than the time to live"
    assert len(cache) == 1


def test_the_quick_read_paths_know_their_databases() -> None:
    assert sqlite_file(make_url("sqlite+aiosqlite:///var/shop.db")) == Path("var/shop.db")
    assert sqlite_file(make_url("sqlite+aiosqlite:///:memory:")) is None
    assert sqlite_file(make_url("postgresql+asyncpg://u@h/db")) is None
    url = make_url("postgresql+asyncpg://shop:s3cret@db:5432/shop?ssl=require")
    assert asyncpg_dsn(url) == "postgresql://shop:s3cret@db:5432/shop?ssl=require"
    assert asyncpg_dsn(make_url("sqlite+aiosqlite:///var/shop.db")) is None
