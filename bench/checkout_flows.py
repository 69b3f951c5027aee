"""One checkout of each row of `bench.checkout`, as a function of the loop (shopper) number that
answers the workflow id of the run it made, or raises.

- `bare`: start `bench.bare_chain.BareChain` and wait for its result (a Temporal client).
- `noop`: the real CheckoutWorkflow on the no-op worker, driven by the web front's calls against
  Temporal: `flows.checkout.start_checkout` (update-with-start `ready`, what `PUT /order/process`
  does), then the Updates `choose_delivery` (pickup) and `pay` (WALLET), until step PAID.
- `real`: a shopper over HTTP against the real API — `POST /order/place` (1 item),
  `PUT /order/process`, `POST /checkout/{id}/delivery` (pickup), `POST /checkout/{id}/pay`
  (wallet) — until pay answers step PAID.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from temporalio.client import Client

from bench.bare_chain import STEPS, BareChain
from bench.rawhttp import RawHTTPError
from core.settings import Settings
from flows.checkout import start_checkout, workflow_id
from models.payloads import CheckoutState, DeliveryRequest, PayRequest

HOST = "127.0.0.1"
# One checkout by loop n: the id of its workflow run, or an exception.
Attempt = Callable[[int], Awaitable[str]]
log = logging.getLogger("bench.checkout")


class Failed(Exception):
    """A checkout that did not reach PAID (counted, not raised further)."""


def bare(client: Client, queue: str) -> Attempt:
    async def attempt(_: int) -> str:
        run_id = f"bench-bare-{uuid.uuid4()}"
        await client.execute_workflow(BareChain.run, STEPS, id=run_id, task_queue=queue)
        return run_id

    return attempt


def noop(client: Client, prefix: str) -> Attempt:
    """The real workflow with stand-in activities, on the default layout `Queues(prefix)`."""
    settings = Settings(task_queue_prefix=prefix, split_task_queues=False)

    async def attempt(loop: int) -> str:
        order_id = str(uuid.uuid4())
        state = await start_checkout(
            temporal=client,
            settings=settings,
            order_id=order_id,
            username=f"shopper{loop:03d}",
            version=1,
        )
        if state.step != "CHOOSING_DELIVERY":
            raise Failed(f"ready: step {state.step}")
        handle = client.get_workflow_handle(workflow_id(order_id))
        request = DeliveryRequest("PICKUP", pickup_point_id=1)
        await handle.execute_update("choose_delivery", request, result_type=CheckoutState)
        state = await handle.execute_update("pay", PayRequest("WALLET"), result_type=CheckoutState)
        if state.step != "PAID":
            raise Failed(f"pay: step {state.step} {state.last_error or state.failure_reason}")
        return workflow_id(order_id)

    return attempt


@dataclass(frozen=True)
class Shopper:
    username: str
    token: str
    product_id: int


def real(
    api_url: str, shoppers: Sequence[Shopper], point_id: int
) -> tuple[Attempt, Callable[[], Awaitable[None]]]:
    """The attempt of loop n (shopper n over a keep-alive connection of its own), and what
    closes those connections."""
    sessions = [HttpSession(api_url, shopper.token) for shopper in shoppers]

    async def attempt(loop: int) -> str:
        return await real_checkout(sessions[loop], shoppers[loop], point_id)

    async def close() -> None:
        for session in sessions:
            await session.close()

    return attempt, close


class HttpSession:
    """One shopper's keep-alive HTTP/1.1 connection with its session cookie; JSON in and out.

    `bench.rawhttp` sends only GETs and drops the answer; a checkout needs POST/PUT bodies and
    the answers (order id, version, step). Same idea: prebuilt bytes over asyncio streams, so the
    load generator costs a fraction of what the server does. uvicorn closes a keep-alive
    connection idle for 5 s: one idle for longer than `IDLE_SECONDS` is reopened before use.
    """

    IDLE_SECONDS = 2.0

    def __init__(self, base_url: str, token: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or HOST, parts.port or 80
        self.cookie = f"sessionId={token}"
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.used = 0.0  # time.monotonic() of the last answer

    async def call(self, method: str, target: str, body: object = None) -> tuple[int, Any]:
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Cookie: {self.cookie}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        if self.streams is not None and time.monotonic() - self.used > self.IDLE_SECONDS:
            await self.close()
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(head.encode("latin-1") + payload)
            answer = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = answer.decode("latin-1").split("\r\n")
            length = None
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                raise RawHTTPError("an answer without Content-Length")
            content = await reader.readexactly(length)
            self.used = time.monotonic()
        except asyncio.IncompleteReadError as error:
            await self.close()
            raise RawHTTPError("connection closed by the server") from error
        except BaseException:
            await self.close()  # a half-read answer leaves the stream unusable
            raise
        return int(status_line.split(" ", 2)[1]), json.loads(content) if content else None

    async def close(self) -> None:
        if self.streams is not None:
            writer, self.streams = self.streams[1], None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def _short(body: object) -> str:
    return (json.dumps(body, ensure_ascii=False) if body is not None else "")[:160]


async def real_checkout(http: HttpSession, shopper: Shopper, point_id: int) -> str:
    """Place, process, pickup, pay by wallet, until pay answers PAID."""
    item = {"product": {"id": shopper.product_id}, "quantity": 1}
    status, body = await http.call("POST", "/order/place", {"orderItems": [item]})
    if status != 200:
        raise Failed(f"place: HTTP {status} {_short(body)}")
    order_id: str = body["id"]
    calls: list[tuple[str, str, str, object]] = [
        ("process", "PUT", "/order/process", {"id": order_id, "version": body["version"]}),
        (
            "delivery",
            "POST",
            f"/checkout/{order_id}/delivery",
            {"kind": "PICKUP", "pickupPointId": point_id},
        ),
        ("pay", "POST", f"/checkout/{order_id}/pay", {"method": "WALLET"}),
    ]
    for step, method, target, payload in calls:
        status, body = await http.call(method, target, payload)
        if status != 200:
            await _give_back(http, order_id)
            raise Failed(f"{step}: HTTP {status} {_short(body)}")
    if body.get("step") != "PAID":
        await _give_back(http, order_id)
        raise Failed(f"pay: answered step {body.get('step')} {_short(body)}")
    return workflow_id(order_id)


async def _give_back(http: HttpSession, order_id: str) -> None:
    """After a failure: leave checkout and cancel the cart, so the next place can work."""
    try:
        await http.call("POST", f"/checkout/{order_id}/back")
        status, body = await http.call("GET", f"/order/get?orderId={order_id}")
        if status == 200 and body.get("status") == "NEW":
            await http.call("PUT", "/order/cancel", {"id": order_id, "version": body["version"]})
    except (OSError, RawHTTPError) as error:
        log.warning("could not give order %s back: %s", order_id, error)
