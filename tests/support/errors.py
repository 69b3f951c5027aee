"""The spec's error shape: `{"errorMessage": ..., "fields": {...}}`, never a stack trace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx


def assert_error(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    """`status` in the spec's error shape (no stack trace), naming at least `fields`."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    body: dict[str, Any] = response.json()
    assert set(body) <= {"errorMessage", "fields"}, body
    assert isinstance(body["errorMessage"], str)
    assert body["errorMessage"]
    assert set(fields) <= set(body.get("fields", {})), body
    return body


def assert_limited(response: httpx.Response, message: str, window: timedelta) -> int:
    """429 in the spec's error shape with `message`, and a Retry-After within the limit's window;
    the Retry-After seconds."""
    body = assert_error(response, 429)
    assert body["errorMessage"] == message
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= window.total_seconds()
    return retry_after
