"""docker-compose.yml by the Compose Specification and against the code, without a Docker engine.

Every check of checks.py and network_checks.py passes on the file as it is, and fails on a copy
changed the way a careless edit would change it (the negative cases): a worker queue dropped, a
setting misspelt, a port moved on one side only, a secret given a default…
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import checks, network_checks
from tests.deploy.compose import (
    COMPOSE_FILE,
    ROOT,
    Document,
    MissingVariable,
    interpolate,
    load_compose,
    read_env_file,
    required_variables,
    services,
)

# What an operator's .env would hold: none of it a dev secret.
TEST_ENV = {
    "SHOP_PUBLIC_URL": "https://shop.example.test",
    "POSTGRES_PASSWORD": "5f1b0c3e9a7d4e2b8c6a0f1e3d5b7a9c",
    "SHOP_SERVICE_KEY": "test-service-key-4b2e",
    "SHOP_GIFT_CARD_SECRET": "test-gift-card-secret-8d1a",
    "SHOP_ACCOUNT_SECRET": "test-account-secret-2c7f",
    "SHOP_BANK_CALLBACK_SECRET": "test-bank-callback-secret-6e3b",
    "SHOP_SMS_API_KEY": "test-sms-api-key-9a4d",
}

Check = Callable[[Document, Mapping[str, str]], list[str]]
Change = Callable[[Document], None]

CHECKS: dict[str, Check] = {
    "setting names": checks.setting_name_problems,
    "secrets": checks.secret_problems,
    "settings": checks.settings_problems,
    "commands": checks.command_problems,
    "queues": checks.queue_problems,
    "dependencies": checks.dependency_problems,
    "search attributes": checks.search_attribute_problems,
    "health checks": network_checks.health_check_problems,
    "proxy": network_checks.proxy_problems,
    "outside systems": network_checks.outside_system_problems,
    "temporal": network_checks.temporal_problems,
    "database": network_checks.database_problems,
    "example.env": checks.example_env_problems,
}


@pytest.fixture(scope="module")
def raw() -> Document:
    return load_compose()


def changed(raw: Document, *changes: Change) -> Document:
    broken = copy.deepcopy(raw)
    for change in changes:
        change(broken)
    return broken


def setting(service: str, name: str, value: str | None) -> Change:
    """Set (None: remove) one environment variable of one service."""

    def change(doc: Document) -> None:
        environment = services(doc)[service]["environment"]
        if value is None:
            environment.pop(name)
        else:
            environment[name] = value

    return change


def setting_everywhere(name: str, value: str) -> Change:
    """Set one environment variable in every service that has it."""

    def change(doc: Document) -> None:
        for service in services(doc).values():
            if name in (service.get("environment") or {}):
                service["environment"][name] = value

    return change


def key(service: str, name: str, value: Any) -> Change:
    """Set (None: remove) one key of one service."""

    def change(doc: Document) -> None:
        if value is None:
            services(doc)[service].pop(name)
        else:
            services(doc)[service][name] = value

    return change


def no_dependency(service: str, target: str) -> Change:
    def change(doc: Document) -> None:
        services(doc)[service]["depends_on"].pop(target)

    return change


def without(service: str) -> Change:
    def change(doc: Document) -> None:
        services(doc).pop(service)

    return change


# --- the specification ---------------------------------------------------------------------------


def test_the_file_follows_the_compose_specification() -> None:
    assert checks.schema_problems(COMPOSE_FILE) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (key("api", "replica", 2), "'replica' was unexpected"),
        (key("postgres", "healthcheck", {"test": ["CMD", "pg_isready"], "every": "5s"}), "every"),
        (lambda doc: doc.update(version="3.8"), "`version` key is obsolete"),
    ],
    ids=["unknown service key", "unknown healthcheck key", "obsolete version"],
)
def test_the_schema_check_fails(
    raw: Document, tmp_path: Path, change: Change, expected: str
) -> None:
    broken = tmp_path / "compose.json"
    broken.write_text(json.dumps(changed(raw, change)), encoding="utf-8")
    assert any(expected in problem for problem in checks.schema_problems(broken))


# --- interpolation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("$A-$$A", {"A": "1"}, "1-$A"),
        ("${A:-x}", {"A": ""}, "x"),
        ("${A-x}", {"A": ""}, ""),
        ("${A-x}", {}, "x"),
        ("${A:+x}", {"A": "1"}, "x"),
        ("${A+x}", {"A": ""}, "x"),
        ("${A:+x}", {"A": ""}, ""),
        ("${A:?no}", {"A": "1"}, "1"),
        ("${A?no}", {"A": ""}, ""),
    ],
)
def test_interpolation_as_compose_does_it(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate({"k": [text]}, env) == {"k": [expected]}


@pytest.mark.parametrize(("text", "env"), [("${A:?no}", {"A": ""}), ("${A?no}", {})])
def test_interpolation_refuses_a_required_variable_unset(text: str, env: dict[str, str]) -> None:
    with pytest.raises(MissingVariable, match="A: no"):
        interpolate(text, env)


def test_every_secret_and_the_public_address_are_required(raw: Document) -> None:
    """`docker compose up` stops at once, naming the variable, for each one left out of .env."""
    assert required_variables(raw) == set(TEST_ENV)
    for name in TEST_ENV:
        without_it = {other: value for other, value in TEST_ENV.items() if other != name}
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw, without_it)


# --- the checks against the code -----------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
def test_the_file_passes(raw: Document, check: Check) -> None:
    assert check(raw, TEST_ENV) == []


NEGATIVE_CASES: list[tuple[str, list[Change], str]] = [
    ("setting names", [setting("api", "SHOP_API_PROT", "8000")], "SHOP_API_PROT is no setting"),
    (
        "secrets",
        [setting("api", "SHOP_SERVICE_KEY", "${SHOP_SERVICE_KEY:-dev-service-key}")],
        "api: SHOP_SERVICE_KEY",
    ),
    ("secrets", [setting("worker-payment", "SHOP_SMS_API_KEY", None)], "SHOP_SMS_API_KEY"),
    (
        "secrets",
        [setting("migrate", "SHOP_DATABASE_URL", "postgresql://shopflow:pw@postgres/shopflow")],
        "migrate: SHOP_DATABASE_URL",
    ),
    ("settings", [setting("api", "SHOP_ENVIRONMENT", "dev")], "not production"),
    ("settings", [setting("api", "SHOP_SERVICE_KEY", "dev-service-key")], "needs its own"),
    ("settings", [setting("worker-billing", "SHOP_COOKIE_SECURE", "false")], "COOKIE_SECURE"),
    (
        "settings",
        [setting("migrate", "SHOP_DATABASE_URL", "sqlite:///var/shop.db")],
        "production needs PostgreSQL",
    ),
    ("settings", [setting("worker-auth", "SHOP_HOST", "127.0.0.1")], "unreachable"),
    ("commands", [key("worker-auth", "command", ["worker", "--queues", "x"])], "worker-auth"),
    ("commands", [key("migrate", "command", ["migration"])], "migrate"),
    ("commands", [key("mail", "command", ["--smtp-prot", "1025"])], "mail"),
    ("commands", [key("bank", "entrypoint", ["python", "-m", "emulators.banks"])], "bank"),
    ("commands", [key("sms", "entrypoint", ["python", "-m", "uvicorn"])], "sms"),
    ("queues", [without("worker-billing")], "no worker service serves shopflow-billing"),
    (
        "queues",
        [key("worker-order", "command", ["worker", "--queue", "shopflow-billing"])],
        "shopflow-billing is served by 2 services",
    ),
    (
        "queues",
        [key("worker-store", "command", ["worker", "--queue", "shopflow-stock"])],
        "serve shopflow-stock, which no workflow routes to",
    ),
    ("queues", [key("worker-auth", "command", ["worker"])], "serves every queue"),
    ("queues", [setting("api", "SHOP_SPLIT_TASK_QUEUES", "false")], "layouts"),
    ("queues", [setting("api", "SHOP_TASK_QUEUE_PREFIX", "shop")], "layouts"),
    ("queues", [setting_everywhere("SHOP_SPLIT_TASK_QUEUES", "false")], "is not true"),
    (
        "dependencies",
        [key("proxy", "depends_on", {"apis": {"condition": "service_healthy"}})],
        "apis, which is no service",
    ),
    ("dependencies", [key("api", "healthcheck", None)], "it has no health check"),
    ("dependencies", [key("migrate", "restart", "on-failure")], "it is restarted"),
    ("dependencies", [no_dependency("api", "migrate")], "api may start before migrate"),
    (
        "dependencies",
        [no_dependency("worker-flows", "temporal-search-attributes")],
        "worker-flows may start before temporal-search-attributes",
    ),
    (
        "dependencies",
        [key("proxy", "volumes", ["./deploy/nginx/missing.conf:/etc/nginx/conf.d/x.conf:ro"])],
        "does not exist",
    ),
    (
        "search attributes",
        [
            setting(
                "temporal-search-attributes",
                "SEARCH_ATTRIBUTES",
                "CustomerId=Keyword OrderId=Keyword FlowStatus=Keyword",
            )
        ],
        "creates",
    ),
    (
        "search attributes",
        [
            setting(
                "temporal-search-attributes",
                "SEARCH_ATTRIBUTES",
                "CustomerId=Keyword OrderId=Keyword FlowStatus=Keyword PaymentMethod=Text",
            )
        ],
        "creates",
    ),
    (
        "search attributes",
        [key("temporal-search-attributes", "entrypoint", ["/bin/sh", "-c", "true"])],
        "no mounted script",
    ),
    ("health checks", [setting("api", "SHOP_API_PORT", "8001")], "api: its health check"),
    (
        "health checks",
        [setting("worker-delivery", "SHOP_WORKER_METRICS_PORT", "0")],
        "worker-delivery listens on no port",
    ),
    (
        "health checks",
        [key("mail", "command", ["--host", "0.0.0.0", "--smtp-port", "2525"])],
        "mail: its health check tries '1025'",
    ),
    ("proxy", [setting("api", "SHOP_API_PORT", "8001")], "upstream"),
    ("proxy", [key("proxy", "ports", ["8080:8080"])], "nginx listens on"),
    ("proxy", [key("api", "ports", ["8000:8000"])], "only the proxy"),
    ("proxy", [key("api", "deploy", None)], "api runs 1 replica(s)"),
    ("outside systems", [setting("worker-notification", "SHOP_SMTP_PORT", "2525")], "mail"),
    ("outside systems", [setting("worker-payment", "SHOP_BANK_URL", "http://bank:8101")], "bank"),
    ("outside systems", [setting("api", "SHOP_COURIERS_URL", "http://couriers.test")], "couriers"),
    (
        "outside systems",
        [key("sms", "command", ["--host", "0.0.0.0", "--port", "8300", "--api-key", "other"])],
        "sms's --api-key",
    ),
    (
        "outside systems",
        [key("couriers", "command", ["--host", "127.0.0.1", "--port", "8200"])],
        "couriers listens on 127.0.0.1",
    ),
    ("outside systems", [without("couriers")], "no service runs emulators.couriers"),
    ("temporal", [setting("api", "SHOP_TEMPORAL_ADDRESS", "temporal:7234")], "temporal:7234"),
    ("temporal", [setting("temporal", "DEFAULT_NAMESPACE", "shop")], "namespaces disagree"),
    ("temporal", [key("temporal-ui", "ports", ["127.0.0.1:8234:8080"])], "TEMPORAL_UI_PORT"),
    (
        "database",
        [
            setting(
                "api",
                "SHOP_DATABASE_URL",
                "postgresql://shopflow:${POSTGRES_PASSWORD:?}@postgres:5432/other",
            )
        ],
        "api's SHOP_DATABASE_URL is not postgres's database",
    ),
    ("database", [setting("temporal", "POSTGRES_PWD", "other")], "Temporal's database settings"),
    ("database", [setting("temporal", "DBNAME", "shopflow")], "must not be the store's"),
    ("database", [key("postgres", "volumes", None)], "no named volume"),
    (
        "example.env",
        [setting("api", "SHOP_SUPPORT_EMAIL", "${SUPPORT_EMAIL:?set it}")],
        "example.env lacks SUPPORT_EMAIL",
    ),
]


@pytest.mark.parametrize(
    ("check", "changes", "expected"),
    NEGATIVE_CASES,
    ids=[f"{check}: {expected}" for check, _, expected in NEGATIVE_CASES],
)
def test_the_check_fails_on_a_broken_copy(
    raw: Document, check: str, changes: list[Change], expected: str
) -> None:
    problems = CHECKS[check](changed(raw, *changes), TEST_ENV)
    assert any(expected in problem for problem in problems), problems


def test_example_env_placeholders_are_refused_by_the_store(raw: Document) -> None:
    """The example's secrets are placeholders the production guards refuse; real-looking ones
    in their place would be taken, and the check says so; so would a variable nothing uses."""
    assert checks.example_env_problems(raw, TEST_ENV, read_env_file()) == []
    usable = {**read_env_file(), **TEST_ENV, "UNUSED": "1"}
    problems = checks.example_env_problems(raw, TEST_ENV, usable)
    assert "example.env sets UNUSED, unused" in problems
    assert any("must be refused" in problem for problem in problems), problems


def compose_cli() -> list[str] | None:
    """`docker compose` (or the older `docker-compose`), where one is installed."""
    docker = shutil.which("docker")
    if docker:
        found = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if found.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


@pytest.mark.skipif(compose_cli() is None, reason="no docker compose CLI on this machine")
def test_docker_compose_loads_the_file(tmp_path: Path) -> None:
    """Where Docker's own Compose is installed, its loader (interpolation, schema, references)
    takes the file with the test secrets, the demo profile included; it needs no engine."""
    cli = compose_cli() or []
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in TEST_ENV.items()), encoding="utf-8")
    options = ["--env-file", str(env_file), "--profile", "demo", "-f", str(COMPOSE_FILE)]
    run = subprocess.run(
        [*cli, *options, "config", "--quiet"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
