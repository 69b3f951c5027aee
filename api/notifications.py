"""The shopper's in-app notices (PUSH): a Server-Sent Events stream of new ones, the JSON list;
and the channels the shopper chose in «Личный кабинет» (e-mail, SMS, notices on the site)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import ConfigDict

from core.db import SessionFactory, transaction
from edge.deps import CurrentUser, SessionDep, SessionFactoryDep
from flows.views import NoticePublic, latest_notices, notice_public
from models.base import CamelModel
from models.notification import ChannelKind
from services import notification

router = APIRouter(tags=["notification"])
ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Bad request"},
    401: {"description": "Not authorized"},
    404: {"description": "No notification account"},
}
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 300.0  # then the stream ends; the browser's EventSource reconnects
RETRY_MILLISECONDS = 3000
LISTED = 50


class Channels(CamelModel):
    """Which channels the shopper is told by; all three are required."""

    model_config = ConfigDict(extra="forbid", strict=True)

    email: bool
    sms: bool
    push: bool


KINDS = {"email": ChannelKind.EMAIL, "sms": ChannelKind.SMS, "push": ChannelKind.PUSH}


def sse_event(notice: NoticePublic) -> str:
    return f"id: {notice.id}\nevent: notice\ndata: {notice.model_dump_json()}\n\n"


def _start_after(last_event_id: str | None, after: int) -> int:
    """Where the stream resumes: the browser's Last-Event-ID on a reconnect, else `after`."""
    if last_event_id is not None and last_event_id.strip().isdigit():
        return int(last_event_id.strip())
    return after


async def notice_events(
    request: Request, sessions: SessionFactory, username: str, after_id: int
) -> AsyncIterator[str]:
    """New notices as events, polled with a short transaction each time (no connection held while
    sleeping), a comment line as heartbeat; ends when the client goes or the bound is reached."""
    started = last_sent = time.monotonic()
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    while time.monotonic() - started < STREAM_SECONDS:
        if await request.is_disconnected():
            return
        async with transaction(sessions) as session:
            rows = await notification.push_notices(
                session=session, username=username, after_id=after_id
            )
        for row in rows:
            after_id = row.id or after_id
            yield sse_event(notice_public(row))
            last_sent = time.monotonic()
        if time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
            yield ": heartbeat\n\n"
            last_sent = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)


# Out of the OpenAPI schema: an endless text/event-stream is no JSON contract (and a fuzzer
# reading it to the end would wait out the bound).
@router.get("/notifications/stream", response_class=StreamingResponse, include_in_schema=False)
async def stream(
    request: Request,
    user: CurrentUser,
    sessions: SessionFactoryDep,
    after: Annotated[int, Query(ge=0)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-Sent Events: each new in-app notice (`id:` its id, `data:` {id, subject, body,
    at}); resumes after `Last-Event-ID` (or `after`); closes after 5 minutes."""
    events = notice_events(request, sessions, user.username, _start_after(last_event_id, after))
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/notification/list", response_model=list[NoticePublic], responses=ERRORS)
async def list_notices(user: CurrentUser, session: SessionDep) -> list[NoticePublic]:
    """The shopper's newest in-app notices, newest first."""
    return await latest_notices(session, user.username, LISTED)


@router.get("/notification/channels", response_model=Channels, responses=ERRORS)
async def get_channels(user: CurrentUser, session: SessionDep) -> Channels:
    """Which channels are on."""
    found = await notification.get_channels(session=session, username=user.username)
    enabled = {channel.kind: channel.enabled for channel in found}
    return Channels.model_validate({name: enabled.get(kind, False) for name, kind in KINDS.items()})


@router.put("/notification/channels", response_model=Channels, responses=ERRORS)
async def put_channels(body: Channels, user: CurrentUser, session: SessionDep) -> Channels:
    """Turn channels on or off: `{email, sms, push}`."""
    for name, kind in KINDS.items():
        await notification.set_channel_enabled(
            session=session, username=user.username, kind=kind, enabled=getattr(body, name)
        )
    return body
