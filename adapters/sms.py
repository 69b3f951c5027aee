"""Outgoing SMS: a Protocol, the HTTP implementation for an SMS provider, and a fake for tests.

The provider's contract (emulators/sms.py serves the same): `POST /api/sms` with a Bearer key and
`{"to", "text", "clientRef"}` answers `{"id", "status": "ACCEPTED"}`. The provider is idempotent on
`clientRef`: the same one again answers the same id and sends nothing, so a retried activity passes
the same `client_ref` (stable per notification) and the shopper gets one SMS.

What a failure means for a retry:
- 400 (a bad number or text) and 422 (a number the provider refuses) are permanent:
  SmsRejectedError, a DomainError the activity layer turns non-retryable;
- 401/403 (a wrong API key) is the store's configuration, not the shopper's: SmsAuthError, an
  ordinary exception, so it is retried (and logged) until an operator fixes the key;
- 5xx, 429, an unreadable answer, a timeout or a refused connection: ordinary exceptions, retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from core.errors import SmsRejectedError


class SmsGatewayError(RuntimeError):
    """The provider failed in a way worth a retry (5xx, 429, an unreadable answer)."""


class SmsAuthError(SmsGatewayError):
    """The provider refused our API key (401/403): a configuration fault, retried until fixed."""


class SmsGateway(Protocol):
    async def send(self, *, to: str, text: str, client_ref: str) -> str:
        """Hand the SMS to the provider; the provider's id for it. The same `client_ref` again
        answers the same id without a second SMS. Raise SmsRejectedError when the provider refused
        it for good (retrying cannot help); anything else is worth a retry."""
        ...


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("errorMessage"), str):
        return str(body["errorMessage"])
    return response.text[:200]


class HttpSmsGateway:
    """The SMS provider's HTTP API. `timeout` bounds each request (connect, read, write)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float = 10.0,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, *, to: str, text: str, client_ref: str) -> str:
        response = await self._client.post(
            "/api/sms", json={"to": to, "text": text, "clientRef": client_ref}
        )
        status = response.status_code
        if status in (400, 422):
            raise SmsRejectedError(
                f"SMS-шлюз не принял сообщение для {to}: {status} {_error_message(response)}",
                fields={"phone": "номер не принимает SMS"},
            )
        if status in (401, 403):
            raise SmsAuthError(f"SMS-шлюз отверг ключ API: {status} {_error_message(response)}")
        if status != 200:
            raise SmsGatewayError(f"SMS-шлюз ответил {status}: {_error_message(response)}")
        try:
            body: Any = response.json()
            sms_id = body["id"]
        except (ValueError, LookupError, TypeError) as exc:
            raise SmsGatewayError(f"SMS-шлюз ответил непонятно: {response.text[:200]!r}") from exc
        if not isinstance(sms_id, str) or not sms_id:
            raise SmsGatewayError(f"SMS-шлюз ответил без id: {response.text[:200]!r}")
        return sms_id


@dataclass(frozen=True)
class SentSms:
    to: str
    text: str
    client_ref: str
    id: str


@dataclass
class RecordingSmsGateway:
    """Test fake: keeps what it was asked to send, idempotent on client_ref like the provider; can
    be told to fail the next N sends (a retryable failure) or to refuse some numbers for good."""

    sent: list[SentSms] = field(default_factory=list)
    failures_left: int = 0
    refused_numbers: set[str] = field(default_factory=set)

    async def send(self, *, to: str, text: str, client_ref: str) -> str:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionRefusedError("SMS gateway unavailable (simulated)")
        if to in self.refused_numbers:
            raise SmsRejectedError(
                f"SMS-шлюз не принял сообщение для {to} (имитация)",
                fields={"phone": "номер не принимает SMS"},
            )
        known = next((sms for sms in self.sent if sms.client_ref == client_ref), None)
        if known is not None:
            return known.id
        sms = SentSms(to=to, text=text, client_ref=client_ref, id=f"fake-{len(self.sent) + 1}")
        self.sent.append(sms)
        return sms.id
