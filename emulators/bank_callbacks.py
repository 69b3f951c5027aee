"""The bank emulator's notifier: signed callbacks delivered at least once, with a real bank's
faults on demand (duplicates, delays, reordering, holding back)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx

from emulators.bank_models import CallbackSettings, Event, log

MAX_LOG_ENTRIES = 10_000
CALLBACK_TIMEOUT_S = 5.0


class Callbacks:
    """Delivers events at least once, with the faults a real bank's notifier shows: duplicates,
    delays, reordering, and holding back. Runs on the app's event loop; the lock keeps the
    settings, the held events and the log consistent for readers all the same."""

    def __init__(self, secret: str, *, retry_base_s: float, attempts: int) -> None:
        self._secret = secret.encode("utf-8")
        self._retry_base_s = retry_base_s
        self._attempts = attempts
        self._lock = threading.Lock()
        self.settings = CallbackSettings()
        self._held: list[Event] | None = None
        self._gathered: list[Event] = []
        self._log: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=CALLBACK_TIMEOUT_S)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        self.reset()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def emit(self, event: Event | None) -> None:
        if event is None:
            return
        with self._lock:
            if self._held is not None:
                self._held.append(event)
                return
            settings = self.settings
            if settings.reorder:
                self._gathered.append(event)
                if len(self._gathered) > 1:
                    return  # the first one's task sends the whole batch
        if settings.reorder:
            self._spawn(self._send_gathered((settings.delay_ms or 1000) / 1000))
        else:
            self._spawn(self._send_in_order([event], settings.delay_ms / 1000))

    async def _send_gathered(self, window_s: float) -> None:
        await asyncio.sleep(window_s)
        with self._lock:
            batch, self._gathered = self._gathered, []
        await self._send_in_order(batch[::-1], 0)

    def hold(self) -> int:
        with self._lock:
            if self._held is None:
                self._held = []
            return len(self._held)

    def release(self) -> int:
        with self._lock:
            held, self._held = self._held or [], None
            settings = self.settings
        order = held[::-1] if settings.reorder else held
        self._spawn(self._send_in_order(order, settings.delay_ms / 1000))
        return len(held)

    def reset(self) -> None:
        with self._lock:
            self.settings = CallbackSettings()
            self._held = None
            self._gathered = []
            self._log.clear()
        for task in list(self._tasks):
            task.cancel()

    def deliveries(self, payment_id: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._log if payment_id is None or e["paymentId"] == payment_id]

    async def _send_in_order(self, events: list[Event], delay_s: float) -> None:
        """First attempts go out one after another in this order; retries run on their own."""
        if delay_s:
            await asyncio.sleep(delay_s)
        copies = 2 if self.settings.duplicate else 1
        for event in events:
            for copy in range(1, copies + 1):
                if not await self._attempt(event, copy, 1):
                    self._spawn(self._retry(event, copy))

    async def _retry(self, event: Event, copy: int) -> None:
        for attempt in range(2, self._attempts + 1):
            await asyncio.sleep(min(self._retry_base_s * 2 ** (attempt - 2), 60.0))
            if await self._attempt(event, copy, attempt):
                return
        log.warning("callback %s: gave up after %s tries", event.event_id, self._attempts)

    async def _attempt(self, event: Event, copy: int, attempt: int) -> bool:
        assert self._client is not None
        answer: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(
                event.url,
                content=event.body,
                headers={
                    "Content-Type": "application/json",
                    "X-Bank-Signature": self.signature(event.body),
                    "X-Bank-Event-Id": event.event_id,
                },
            )
            answer = response.status_code
        except httpx.HTTPError as exc:
            error = repr(exc)
        entry = {
            "eventId": event.event_id,
            "paymentId": event.payment_id,
            "status": event.status,
            "url": event.url,
            "copy": copy,
            "attempt": attempt,
            "answer": answer,
            "error": error,
            "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        }
        with self._lock:
            self._log.append(entry)
            del self._log[:-MAX_LOG_ENTRIES]
        log.info(
            "callback %s %s try %s → %s", event.event_id, event.status, attempt, answer or error
        )
        return answer is not None and 200 <= answer < 300
