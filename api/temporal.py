"""The API's Temporal client, connected on first use so the API starts even while Temporal boots."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from core.errors import UnavailableError


class LazyTemporalClient:
    def __init__(self, address: str, namespace: str) -> None:
        self._address = address
        self._namespace = namespace
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def of(cls, client: Client) -> LazyTemporalClient:
        """Wrap an already connected client (tests)."""
        lazy = cls(client.service_client.config.target_host, client.namespace)
        lazy._client = client
        return lazy

    async def __call__(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await Client.connect(self._address, namespace=self._namespace)
                except RuntimeError as exc:
                    raise UnavailableError(
                        "Сервис временно недоступен, попробуйте через минуту"
                    ) from exc
            return self._client
