"""The real bank emulator process (one for the folder), a receiver for its callbacks, and the
clients the tests drive it with: the merchant's gateway, the admin API, the buyer's browser; the
real SMS emulator process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from adapters.bank import HttpBankGateway
from tests.conftest import bank_process, emulator_process, free_ports
from tests.support.bank import RETRY_TRIES, SECRET, Bank, CallbackReceiver, callback_receiver


@pytest.fixture(scope="package")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    """The real bank emulator process; retries are quick so the tests stay short."""
    with bank_process(
        tmp_path_factory.mktemp("bank"), secret=SECRET, retry_ms=100, attempts=RETRY_TRIES
    ) as running:
        yield running


@pytest.fixture(scope="package")
async def receiver() -> AsyncIterator[CallbackReceiver]:
    async with callback_receiver() as catcher:
        yield catcher


@pytest.fixture
async def admin(bank: Bank) -> AsyncIterator[httpx.AsyncClient]:
    """A plain client on the emulator; callback settings, holds and the log reset around a test."""
    async with httpx.AsyncClient(base_url=bank.url, timeout=10) as client:
        (await client.delete("/admin/callbacks")).raise_for_status()
        yield client
        (await client.delete("/admin/callbacks")).raise_for_status()


@pytest.fixture
async def gateway(bank: Bank, admin: httpx.AsyncClient) -> AsyncIterator[HttpBankGateway]:
    bank_gateway = HttpBankGateway(bank.url, timeout=5.0)
    yield bank_gateway
    await bank_gateway.aclose()


@pytest.fixture
async def buyer() -> AsyncIterator[httpx.AsyncClient]:
    """The buyer's browser: follows the bank's redirects, knows nothing of the API."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as client:
        yield client


SMS_API_KEY = "test-sms-key"
SMS_REFUSED_NUMBER = "+79990000000"


@dataclass(frozen=True)
class SmsEmulator:
    url: str
    api_key: str
    refused_number: str


@pytest.fixture(scope="package")
def sms_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsEmulator]:
    """The real SMS emulator process on a free port, with its own key and one refused number."""
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    args = [
        *("--host", "127.0.0.1", "--port", str(port), "--api-key", SMS_API_KEY),
        *("--refuse-number", SMS_REFUSED_NUMBER),
    ]
    with emulator_process("emulators.sms", args, f"{url}/healthz", tmp_path_factory.mktemp("sms")):
        yield SmsEmulator(url, SMS_API_KEY, SMS_REFUSED_NUMBER)
