"""The one settings object. Only entry points build it; they pass values down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.db import normalize_database_url


class SsoProvider(BaseModel):
    """An outside OpenID Connect provider shoppers may sign in with («Войти через {title}»)."""

    key: str = Field(pattern=r"^[a-z0-9-]{1,32}$")  # in URLs and the linked identities
    title: str = Field(min_length=1, max_length=64)
    issuer: str = Field(pattern=r"^https?://")  # its discovery document is under this URL
    client_id: str = Field(min_length=1)
    client_secret: SecretStr


class Settings(BaseSettings):
    """Every port, address and path of the store. Environment variables use the `SHOP_` prefix."""

    model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=".env", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path("var")
    database_url: str = ""

    host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = ""

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    # Where operators open the Temporal UI (the operators' pages link runs there); by default
    # `host`:`temporal_ui_port`, as `shopflow dev` serves it.
    temporal_ui_url: str = ""
    temporal_binary: str = ""
    # Task queues (models.payloads.Queues): one queue `<prefix>` for workflows and activities, or
    # with split_task_queues `<prefix>-flows` and `<prefix>-<domain>` for split deployments.
    task_queue_prefix: str = Field(default="shopflow", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    split_task_queues: bool = False
    # How long a request waits on a workflow (an Update) before answering 503: a worker outage
    # must not hang the shopper's page.
    update_wait_seconds: float = Field(default=20.0, gt=0)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    mail_from: str = "Shopflow <noreply@shopflow.local>"
    mailbox_port: int = 8025
    # The SMS provider (emulators/sms.py in dev): its API and the Bearer key it expects.
    sms_port: int = 8300
    sms_url: str = ""
    sms_api_key: SecretStr = SecretStr("dev-sms-key")
    couriers_port: int = 8200
    couriers_url: str = ""
    bank_port: int = 8100
    # The OpenID Connect provider emulator `shopflow dev` starts when no SSO provider is set.
    oidc_port: int = 9400
    bank_url: str = ""
    # Shared with the bank: it signs callbacks with this key (HMAC-SHA256).
    bank_callback_secret: SecretStr = SecretStr("dev-bank-callback-secret")
    bank_wait_minutes: float = Field(default=15.0, gt=0)  # a bank payment not final by then fails
    bank_poll_seconds: float = Field(default=20.0, gt=0)  # ask the bank when no callback came
    # Services that call billing's internal contracts (/billing/token/charge|create) send it.
    service_key: SecretStr = SecretStr("dev-service-key")
    # Gift card activation codes are HMACs of the issuing request's key with this secret, so
    # a replayed issue yields the same code and no code is ever stored.
    gift_card_secret: SecretStr = SecretStr("dev-gift-card-secret")
    # E-mail change links carry an HMAC of the run and its counter with this secret.
    account_secret: SecretStr = SecretStr("dev-account-secret")
    # Wrong gift card activation codes (services/billing.py: activate_gift_card_limited): at most
    # this many per shopper and per client address within the window, counted in the database
    # (so across API processes); past them 429 with Retry-After, a correct code included.
    activation_wrong_codes_per_shopper: int = Field(default=5, ge=1, le=1000)
    activation_wrong_codes_per_address: int = Field(default=20, ge=1, le=10_000)
    activation_window_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    # Wrong passwords (services/auth_limits.py: login_limited), the same way: per account and per
    # client address within the window; past them 429 with Retry-After, a correct password too.
    login_wrong_passwords_per_account: int = Field(default=10, ge=1, le=1000)
    login_wrong_passwords_per_address: int = Field(default=50, ge=1, le=10_000)
    login_window_minutes: float = Field(default=15.0, gt=0, le=24 * 60)

    # Registrations (services/auth_limits.py: admit_registration), every one counted: per e-mail (a
    # stranger's mailbox is not flooded with welcome mail) and per client address within the
    # window; past them 429 with Retry-After.
    registrations_per_email: int = Field(default=3, ge=1, le=1000)
    registrations_per_address: int = Field(default=20, ge=1, le=100_000)
    registration_window_minutes: float = Field(default=60.0, gt=0, le=24 * 60)

    # Where the pages' footer sends shoppers for help.
    support_email: str = "help@shopflow.local"
    # Single sign-on: JSON, e.g. SHOP_SSO_PROVIDERS='[{"key": "yandex", "title": "Яндекс ID",
    # "issuer": "https://…", "client_id": "…", "client_secret": "…"}]'; none: no buttons.
    sso_providers: list[SsoProvider] = Field(default_factory=list)

    access_log: bool = True
    # Log lines as text (a terminal) or JSON (a collector: each line's workflow, run and order).
    log_format: Literal["text", "json"] = "text"
    # Prometheus: the API's own at /metrics (off: 404); the worker's, with the Temporal SDK's
    # metrics and the flows' outcomes, on this port of `host` (0: not served).
    metrics_enabled: bool = True
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    # OpenTelemetry traces go to this OTLP/HTTP endpoint (e.g. http://collector:4318/v1/traces);
    # empty: no spans are recorded.
    otlp_endpoint: str = ""
    session_ttl_hours: int = Field(default=24 * 14, ge=1)
    # A session unused this long ends (beside the absolute `session_ttl_hours`).
    session_idle_minutes: float = Field(default=24 * 60, gt=0)
    cookie_secure: bool = False
    registration_wait_seconds: float = Field(default=15.0, gt=0)
    search_cache_seconds: float = Field(default=5.0, ge=0)
    checkout_idle_minutes: float = Field(default=30.0, gt=0)
    # A paid order waits this long at the pickup point (a reminder after `pickup_reminder_days`),
    # then goes back to stock and the money is refunded.
    pickup_days: int = Field(default=7, ge=1, le=60)
    pickup_reminder_days: int = Field(default=3, ge=1, le=60)
    # Request bodies past this size are refused with 413 (api/limits.py): no contract needs more.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    @field_validator("database_url")
    @classmethod
    def _normalize_url(cls, value: str) -> str:
        return normalize_database_url(value) if value else value

    @model_validator(mode="after")
    def _defaults_and_guards(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'shop.db'}"
        if not self.sms_url:
            self.sms_url = f"http://{self.host}:{self.sms_port}"
        if not self.couriers_url:
            self.couriers_url = f"http://{self.host}:{self.couriers_port}"
        if not self.bank_url:
            self.bank_url = f"http://{self.host}:{self.bank_port}"
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.api_port}"
        if not self.temporal_ui_url:
            self.temporal_ui_url = f"http://{self.host}:{self.temporal_ui_port}"
        if self.environment == "production" and not self.cookie_secure:
            raise ValueError(
                "SHOP_COOKIE_SECURE must be true in production (cookies over HTTPS only)"
            )
        if self.environment == "production" and any(
            secret.get_secret_value().startswith("dev-")
            for secret in (
                self.bank_callback_secret,
                self.service_key,
                self.gift_card_secret,
                self.account_secret,
                self.sms_api_key,
            )
        ):
            raise ValueError(
                "production needs its own SHOP_BANK_CALLBACK_SECRET, SHOP_SERVICE_KEY, "
                "SHOP_GIFT_CARD_SECRET, SHOP_ACCOUNT_SECRET and SHOP_SMS_API_KEY"
            )
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("production needs PostgreSQL: set SHOP_DATABASE_URL")
        return self

    @property
    def mailbox_url(self) -> str:
        return f"http://{self.host}:{self.mailbox_port}"

    @property
    def sms_inbox_url(self) -> str:
        """The SMS emulator's inbox page (dev only: a real provider has none)."""
        return f"http://{self.host}:{self.sms_port}"
