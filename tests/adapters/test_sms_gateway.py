"""The SMS adapter against the real SMS emulator process: the provider's id, its idempotency on
client_ref, and how each refusal maps to a retryable or a non-retryable error; and the fake."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from adapters.sms import (
    HttpSmsGateway,
    RecordingSmsGateway,
    SmsAuthError,
    SmsGateway,
    SmsGatewayError,
)
from core.errors import DomainError, SmsRejectedError, ValidationError
from tests.conftest import emulator_process, free_ports

API_KEY = "test-sms-key"
REFUSED = "+79990000000"
NUMBER = "+79123456789"


@pytest.fixture(scope="module")
def sms_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real SMS emulator process on a free port, stopped (by its PID) after the module."""
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    args = ["--host", "127.0.0.1", "--port", str(port), "--api-key", API_KEY]
    args += ["--refuse-number", REFUSED]
    with emulator_process("emulators.sms", args, f"{url}/healthz", tmp_path_factory.mktemp("sms")):
        yield url


@pytest.fixture
async def gateway(sms_url: str) -> AsyncIterator[HttpSmsGateway]:
    sms = HttpSmsGateway(sms_url, API_KEY, timeout=5.0)
    yield sms
    await sms.aclose()


def _inbox(sms_url: str, to: str) -> list[dict[str, str]]:
    response = httpx.get(f"{sms_url}/api/messages", params={"to": to}, timeout=5)
    response.raise_for_status()
    found: list[dict[str, str]] = response.json()
    return found


async def test_a_sent_sms_gets_the_providers_id(gateway: HttpSmsGateway, sms_url: str) -> None:
    ref = uuid.uuid4().hex
    sms_id = await gateway.send(to=NUMBER, text="Ваш код: 4242", client_ref=ref)
    assert sms_id
    assert [(m["id"], m["text"]) for m in _inbox(sms_url, NUMBER) if m["clientRef"] == ref] == [
        (sms_id, "Ваш код: 4242")
    ]


async def test_the_same_client_ref_gets_the_same_id_and_one_sms(
    gateway: HttpSmsGateway, sms_url: str
) -> None:
    ref = uuid.uuid4().hex
    first = await gateway.send(to=NUMBER, text="один раз", client_ref=ref)
    again = await gateway.send(to=NUMBER, text="один раз", client_ref=ref)
    assert again == first
    assert len([m for m in _inbox(sms_url, NUMBER) if m["clientRef"] == ref]) == 1


async def test_a_refused_number_is_a_non_retryable_domain_error(gateway: HttpSmsGateway) -> None:
    with pytest.raises(SmsRejectedError) as caught:
        await gateway.send(to=REFUSED, text="привет", client_ref=uuid.uuid4().hex)
    assert isinstance(caught.value, ValidationError)
    assert caught.value.code == "SmsRejectedError"
    assert not caught.value.retryable
    assert "phone" in caught.value.fields


async def test_a_bad_number_is_refused_for_good_too(gateway: HttpSmsGateway) -> None:
    with pytest.raises(SmsRejectedError):
        await gateway.send(to="8-912-345-67-89", text="привет", client_ref=uuid.uuid4().hex)


async def test_a_wrong_key_is_an_ordinary_retryable_error(sms_url: str) -> None:
    wrong = HttpSmsGateway(sms_url, "not-the-key", timeout=5.0)
    try:
        with pytest.raises(SmsAuthError) as caught:
            await wrong.send(to=NUMBER, text="привет", client_ref=uuid.uuid4().hex)
        assert "401" in str(caught.value)
        assert not isinstance(caught.value, DomainError)  # retried: an operator fixes the key
    finally:
        await wrong.aclose()


async def test_a_5xx_and_an_unreachable_provider_raise_ordinary_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"errorMessage": "перегрузка"})

    down = HttpSmsGateway("http://sms.test", "k", transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(SmsGatewayError, match="503"):
            await down.send(to=NUMBER, text="x", client_ref="r")
    finally:
        await down.aclose()

    (port,) = free_ports(1)  # nobody listens there
    gone = HttpSmsGateway(f"http://127.0.0.1:{port}", "k", timeout=2.0)
    try:
        with pytest.raises(httpx.TransportError):
            await gone.send(to=NUMBER, text="x", client_ref="r")
    finally:
        await gone.aclose()


async def test_the_fake_keeps_the_providers_rules() -> None:
    fake = RecordingSmsGateway(failures_left=1, refused_numbers={REFUSED})
    gateway: SmsGateway = fake
    with pytest.raises(ConnectionRefusedError):
        await gateway.send(to=NUMBER, text="x", client_ref="r1")
    first = await gateway.send(to=NUMBER, text="x", client_ref="r1")
    assert await gateway.send(to=NUMBER, text="x", client_ref="r1") == first
    with pytest.raises(SmsRejectedError):
        await gateway.send(to=REFUSED, text="x", client_ref="r2")
    assert [(s.to, s.client_ref, s.id) for s in fake.sent] == [(NUMBER, "r1", first)]
