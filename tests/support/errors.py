"""The spec's error shape: `{"errorMessage": ..., "fields": {...}}`, never a stack trace."""

from __future__ import annotations

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
