"""The shopper's notification channels: PUT /notification/channels persists the choice (read back
by GET and shown in «Личный кабинет»); a bad body is 400 in the spec's error shape."""

from __future__ import annotations

from core.db import transaction
from models.notification import ChannelKind
from services import notification
from tests.support.errors import assert_error
from tests.support.shop import Shop


async def stored(shop: Shop) -> dict[ChannelKind, bool]:
    me = (await shop.http.get("/auth/auth")).json()["username"]
    async with transaction(shop.sessions) as session:
        channels = await notification.get_channels(session=session, username=me)
    return {channel.kind: channel.enabled for channel in channels}


async def test_put_channels_persists(seeded: Shop) -> None:
    assert (await seeded.http.get("/notification/channels")).json() == {
        "email": True,
        "sms": True,
        "push": True,
    }

    response = await seeded.http.put(
        "/notification/channels", json={"email": True, "sms": False, "push": False}
    )

    assert response.status_code == 200, response.text
    assert await stored(seeded) == {
        ChannelKind.EMAIL: True,
        ChannelKind.SMS: False,
        ChannelKind.PUSH: False,
    }
    assert (await seeded.http.get("/notification/channels")).json() == response.json()
    page = (await seeded.http.get("/account")).text
    assert 'name="email" checked' in page
    assert 'name="sms" checked' not in page
    again = {"email": False, "sms": True, "push": True}
    assert (await seeded.http.put("/notification/channels", json=again)).json() == again
    assert await stored(seeded) == {
        ChannelKind.EMAIL: False,
        ChannelKind.SMS: True,
        ChannelKind.PUSH: True,
    }


async def test_a_bad_body_is_400(seeded: Shop) -> None:
    bodies: list[object] = [
        {"email": True, "sms": False},
        {"email": "yes", "sms": False, "push": True},
        {"email": True, "sms": False, "push": True, "fax": True},
        [],
    ]
    for body in bodies:
        assert_error(await seeded.http.put("/notification/channels", json=body), 400)
    assert_error(await seeded.http.put("/notification/channels", content=b"{"), 400)
    assert set((await stored(seeded)).values()) == {True}, "nothing changed"


async def test_channels_need_a_login(seeded: Shop) -> None:
    await seeded.http.post("/logout")
    assert_error(
        await seeded.http.put(
            "/notification/channels", json={"email": True, "sms": True, "push": True}
        ),
        401,
    )
