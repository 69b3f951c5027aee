"""Card numbers and CVCs never reach Shopflow: after paying by a new card with 3-D Secure that is
remembered, and again by that linked card, neither appears in our database, logs, mails or
workflow histories — only the bank's token and the masked number do."""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.db import transaction
from models.metadata import metadata
from tests.support.bank import THREE_DS_CARD, open_page
from tests.support.checkout import pay, settled, to_payment
from tests.support.shop import Shop

CVC = "739"
DIGITS = re.sub(r"\D", "", THREE_DS_CARD)


def leaks(text: str) -> list[str]:
    """Card data in `text`: the number with or without spaces, a CVC field, the CVC value."""
    found = []
    if DIGITS in re.sub(r"[ -]", "", text):
        found.append("card number")
    if re.search(r"cvc|cvv", text, re.IGNORECASE):
        found.append("a CVC field")
    if re.search(rf"(?<![0-9a-fA-F]){CVC}(?![0-9a-fA-F])", text):
        found.append("the CVC")
    return found


def readable(node: Any) -> str:
    """A history as text with every payload decoded (its JSON holds them base64-encoded)."""
    if isinstance(node, dict):
        parts = []
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                value = base64.b64decode(value).decode("utf-8", "replace")
            parts.append(f"{key}: {readable(value)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(readable(item) for item in node) + "]"
    return str(node)


async def database_text(shop: Shop) -> str:
    """Every row of every table of ours, as text."""
    rows = []
    async with transaction(shop.sessions) as session:
        connection = await session.connection()
        for table in metadata.sorted_tables:
            for row in (await connection.execute(select(table))).all():
                rows.append(f"{table.name}: {tuple(row)}")
    return "\n".join(rows)


async def test_no_card_number_or_cvc_anywhere_in_shopflow(
    seeded: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    assert leaks(f"card {THREE_DS_CARD}"), "the detector works"
    assert leaks(f'{{"cvc": "{CVC}"}}'), "the detector works"
    caplog.set_level(logging.DEBUG)
    oid, _ = await to_payment(seeded)
    waiting = await pay(seeded, oid, method="BANK_CARD", saveCard=True)
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as buyer:
        form = await open_page(buyer, waiting["paymentUrl"])
        challenge = await form.submit(
            buyer, {"cardNumber": THREE_DS_CARD, "expiry": "11/31", "cvc": CVC}, button="Оплатить"
        )
        await challenge.submit(buyer, {"code": "1234"}, button="Подтвердить")
    assert (await settled(seeded, oid))["step"] == "PAID"
    (card,) = [
        t
        for t in (await seeded.http.get("/payment/tokens/get")).json()["tokens"]
        if t["tokenType"] == "BANK_CARD"
    ]
    assert card["maskedTokenId"] == DIGITS[:6] + "******" + DIGITS[-4:]
    second, _ = await to_payment(seeded)
    assert (await pay(seeded, second, method="BANK_CARD", tokenId=card["id"]))["step"] == "PAID"

    histories = []
    # The bank's page has a payment run of its own; the remembered card is charged inline.
    for run in (f"checkout-{oid}", f"payment-order-{oid}-v0-1", f"checkout-{second}"):
        handle = seeded.env.client.get_workflow_handle(run)
        await handle.result()
        histories.append(readable((await handle.fetch_history()).to_json_dict()))
    places = {
        "database": await database_text(seeded),
        "logs": caplog.text,
        "mails": "\n".join(f"{m.subject}\n{m.body}" for m in seeded.mailer.sent),
        "workflow histories": "\n".join(histories),
    }
    assert "******" in places["database"], "the masked number is kept"
    assert "payment" in places["logs"].lower(), "the logs were captured"
    assert DIGITS[-4:] in places["mails"], "the mail names the card by its masked number"
    assert "******" in places["workflow histories"], "the histories were decoded"
    found = {place: leaks(text) for place, text in places.items() if leaks(text)}
    assert found == {}
