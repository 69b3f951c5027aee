"""The bank's callback to the store: a notice as the bank sends it, posted to the callback
endpoint with or without a signature."""

from __future__ import annotations

import json

import httpx

from adapters.bank import SIGNATURE_HEADER
from tests.support.shop import Shop


def notice(payment_id: str = "bank-p-1", event_id: str = "evt-1") -> bytes:
    return json.dumps(
        {
            "paymentId": payment_id,
            "status": "SUCCEEDED",
            "amountKopecks": 100_00,
            "eventId": event_id,
            "occurredAt": "2025-05-01T10:00:00+00:00",
        }
    ).encode()


async def callback(shop: Shop, flow: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return await shop.http.post(
        "/payment/bank/callback", params={"flow": flow}, content=body, headers=headers
    )
