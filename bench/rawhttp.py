"""A lean HTTP/1.1 keep-alive client for load generation: GET only, Content-Length bodies only.

httpx spends about 3 ms of CPU per request with 50 pooled connections, so on a 2-core machine it
saturates its core at ~300 requests/s and the trivial endpoint measures the client, not the
server (bench/README.md has the numbers). This client writes a prebuilt request and reads the
answer off asyncio streams: ~0.035 ms of CPU per request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit


class RawHTTPError(Exception):
    """The server answered something this client does not read, or closed the connection."""


class _Slot:
    """One keep-alive connection, opened on first use and again after a failed exchange."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, request: bytes) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            length = None
            for line in header_lines:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding":
                    raise RawHTTPError(f"transfer-encoding {value.strip()} is not supported")
            if length is None:
                raise RawHTTPError("an answer without Content-Length")
            await reader.readexactly(length)
            return int(status_line.split(" ", 2)[1])
        except asyncio.IncompleteReadError as error:
            await self.close()
            raise RawHTTPError("connection closed by the server") from error
        except BaseException:
            await self.close()  # a half-read answer leaves the stream unusable
            raise

    async def close(self) -> None:
        if self.streams is not None:
            writer, self.streams = self.streams[1], None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class RawClient:
    """`size` keep-alive connections to one server; each request takes an idle one."""

    def __init__(self, base_url: str, size: int) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.slots = [_Slot(self.host, self.port) for _ in range(size)]
        self.idle: asyncio.LifoQueue[_Slot] = asyncio.LifoQueue()
        for slot in self.slots:
            self.idle.put_nowait(slot)

    def request(self, target: str) -> bytes:
        """The bytes of a GET for `target` (path and query string, already URL-encoded)."""
        return f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode("ascii")

    async def get(self, request: bytes) -> int:
        """Send a prebuilt request, read the whole answer, return its status code."""
        slot = await self.idle.get()
        try:
            return await slot.get(request)
        finally:
            self.idle.put_nowait(slot)

    async def close(self) -> None:
        for slot in self.slots:
            await slot.close()


@asynccontextmanager
async def raw_client(base_url: str, size: int) -> AsyncIterator[RawClient]:
    client = RawClient(base_url, size)
    try:
        yield client
    finally:
        await client.close()
