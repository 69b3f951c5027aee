"""The SMS emulator as its own process: the provider's send API with its key, number and text
checks, its idempotency on clientRef and its permanent refusals, and the inbox (JSON and page)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulators.conftest import SmsEmulator

NUMBER = "+79123456789"


@pytest.fixture
def client(sms_emulator: SmsEmulator) -> Iterator[httpx.Client]:
    """A client with the right key on an empty inbox."""
    with httpx.Client(
        base_url=sms_emulator.url,
        headers={"Authorization": f"Bearer {sms_emulator.api_key}"},
        timeout=5.0,
    ) as sms:
        sms.delete("/api/messages").raise_for_status()
        yield sms


def _send(client: httpx.Client, **overrides: Any) -> httpx.Response:
    body = {"to": NUMBER, "text": "Код: 1234", "clientRef": uuid.uuid4().hex, **overrides}
    return client.post("/api/sms", json=body)


def test_a_sent_sms_is_accepted_and_lands_in_the_inbox(client: httpx.Client) -> None:
    answer = _send(client, text="Ваш заказ собран", clientRef="order-1")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ACCEPTED"
    assert isinstance(body["id"], str)
    assert body["id"]

    inbox = client.get("/api/messages", params={"to": NUMBER}).json()
    assert [(m["id"], m["to"], m["text"], m["clientRef"]) for m in inbox] == [
        (body["id"], NUMBER, "Ваш заказ собран", "order-1")
    ]
    assert client.get("/api/messages", params={"to": "+79000000001"}).json() == []


def test_the_same_client_ref_answers_the_same_id_and_sends_nothing_more(
    client: httpx.Client,
) -> None:
    first = _send(client, clientRef="ref-twice").json()
    again = _send(client, clientRef="ref-twice").json()
    other = _send(client, clientRef="ref-other").json()
    assert again == first
    assert other["id"] != first["id"]
    assert len(client.get("/api/messages").json()) == 2


def test_a_wrong_or_missing_key_is_401(client: httpx.Client, sms_emulator: SmsEmulator) -> None:
    body = {"to": NUMBER, "text": "x", "clientRef": "k"}
    for headers in ({"Authorization": "Bearer wrong"}, {}, {"Authorization": sms_emulator.api_key}):
        answer = httpx.post(f"{sms_emulator.url}/api/sms", json=body, headers=headers, timeout=5)
        assert answer.status_code == 401, headers
        assert "errorMessage" in answer.json()
        assert answer.headers["www-authenticate"] == "Bearer"
    # Nothing was sent, and a wrong key is refused before the body is even looked at.
    assert client.get("/api/messages").json() == []
    refused = httpx.post(f"{sms_emulator.url}/api/sms", content=b"nonsense", timeout=5)
    assert refused.status_code == 401


@pytest.mark.parametrize(
    "overrides",
    [
        {"to": "89123456789"},
        {"to": "+7912345678"},
        {"to": "+791234567890"},
        {"to": "+1912345678a"},
        {"text": ""},
        {"text": "   "},
        {"text": "я" * 1001},
        {"clientRef": ""},
    ],
)
def test_a_bad_number_or_text_is_400(client: httpx.Client, overrides: dict[str, str]) -> None:
    answer = _send(client, **overrides)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errorMessage"]
    assert client.get("/api/messages").json() == []


def test_an_unreadable_body_is_400(client: httpx.Client) -> None:
    for content in (b"not json", b"[]", b'{"to": "+79123456789"}'):
        answer = client.post("/api/sms", content=content)
        assert answer.status_code == 400, content
        assert answer.json()["errorMessage"].startswith("Неверный запрос")


def test_a_text_of_exactly_1000_characters_is_taken(client: httpx.Client) -> None:
    assert _send(client, text="я" * 1000).status_code == 200


def test_a_refused_number_is_422_every_time(
    client: httpx.Client, sms_emulator: SmsEmulator
) -> None:
    for _ in range(2):
        answer = _send(client, to=sms_emulator.refused_number, clientRef="refused-ref")
        assert answer.status_code == 422, answer.text
        assert sms_emulator.refused_number in answer.json()["errorMessage"]
    assert client.get("/api/messages").json() == []


def test_the_inbox_lists_newest_first_as_json_and_as_a_page(client: httpx.Client) -> None:
    _send(client, text="первое", clientRef="a")
    _send(client, to="+79001112233", text="<b>второе</b>", clientRef="b")
    assert [m["text"] for m in client.get("/api/messages").json()] == ["<b>второе</b>", "первое"]

    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "SMS-сообщения" in page.text
    assert "Кому" in page.text
    assert "&lt;b&gt;второе&lt;/b&gt;" in page.text
    assert "<b>второе" not in page.text
    assert page.text.index("второе") < page.text.index("первое")

    client.delete("/api/messages").raise_for_status()
    assert client.get("/api/messages").json() == []
    assert "Сообщений пока нет" in client.get("/").text


def test_healthz_and_unknown_routes(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "errorMessage" in missing.json()
