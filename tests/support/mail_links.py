"""The e-mail change links the account's mails carry (the store's public URL is http://shop.test
in the API tests), read from the shop's recording mailer as the confirmation page posts them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from tests.support.shop import Shop

LINK = re.compile(r"http://shop\.test/account/email/confirm#(\S+)")


def confirmation_links(shop: Shop, to: str) -> list[dict[str, Any]]:
    """The e-mail change links mailed to `to`, oldest first."""
    found = []
    for mail in shop.mailer.sent:
        match = LINK.search(mail.body)
        if mail.to == to and match:
            fields = {key: value[0] for key, value in parse_qs(match.group(1)).items()}
            found.append(
                {
                    "username": fields["u"],
                    "run": fields["r"],
                    "counter": int(fields["n"]),
                    "token": fields["t"],
                }
            )
    return found
