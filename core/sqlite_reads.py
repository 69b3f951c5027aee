"""A read-only connection of the standard library's sqlite3 for short, bounded reads on the event
loop's own thread: search's product cards (≤ 60 primary-key lookups, ≈ 0.2 ms of SQLite).

Why not a thread: handing such a read to a thread costs more than the read. Measured in-process
(bench/README.md, 100 000 products, 50 concurrent searches): 1 417 searches/s on the loop's
thread, 953 with one hop to a single reader thread, 728 with two (the GIL passed back and forth),
against 440 through SQLAlchemy's aiosqlite adaptation (several hops per statement). Writes and
every other read stay on the SQLAlchemy engine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import URL

T = TypeVar("T")
MMAP_BYTES = 256 * 1024 * 1024  # pages read through the OS's cache, without a read() per page


def sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite database URL (None for another database or an in-memory one)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


class SqliteReads:
    """`run(work)` calls `work(connection)` at once, on a read-only connection to `path` opened
    on first use (autocommit: each statement sees what was committed before it)."""

    def __init__(self, path: Path) -> None:
        self._uri = path.resolve().as_uri().replace("file://", "file:", 1) + "?mode=ro"
        self._connection: sqlite3.Connection | None = None

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._connection is None:
            connection = sqlite3.connect(self._uri, uri=True, isolation_level=None)
            connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            self._connection = connection
        return work(self._connection)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
