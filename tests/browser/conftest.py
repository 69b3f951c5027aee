"""Real-browser fixtures: the whole store started the way a newcomer starts it (`shopflow dev`),
every port chosen free at runtime, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.store import Store, running_store, tail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Package scope, not session: started once for all of tests/browser and stopped as soon as the
# suite leaves this folder. Playwright's sync API keeps its event loop marked as running on the main
# thread until it stops, which would break every pytest-asyncio test collected after this folder.
@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The whole store, started by the real dev supervisor: `python -m workers.cli dev`
    (tests/support/store.py)."""
    with running_store(tmp_path_factory.mktemp("store")) as (running, process):
        yield running
        crashed = process.poll()
    if crashed is not None:
        pytest.fail(
            f"`workers.cli dev` exited with code {crashed} during the tests;"
            f" log {running.log_path}:\n{tail(running.log_path)}"
        )


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (never a Playwright download)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: browser tests need Debian's Chromium"
            " (apt-get install -y chromium); `playwright install` is not used here"
        )
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, store: Store) -> Iterator[Page]:
    """A fresh page in a fresh context (no cookies shared between tests)."""
    context = browser.new_context(base_url=store.base_url, locale="ru-RU")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, attach the tail of the store's log to the report."""
    report = yield
    store_fixture = getattr(item, "funcargs", {}).get("store")
    if report.failed and isinstance(store_fixture, Store):
        report.sections.append(("store log (tail)", store_fixture.log_tail()))
    return report
