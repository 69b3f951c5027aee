"""The `deployment` fixture (tests/topology/deployment.py), started once for this folder, and
the tails of its processes' logs attached to every failure report."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator

import pytest

from tests.topology.deployment import POSTGRES, Deployment, deployed


@pytest.fixture(scope="package")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    if not POSTGRES:
        pytest.skip("needs SHOP_TEST_DATABASE_URL pointing at PostgreSQL")
    async with deployed(tmp_path_factory.mktemp("topology")) as running:
        yield running


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, attach the tail of every process's log to the report."""
    report = yield
    running = getattr(item, "funcargs", {}).get("deployment")
    if report.failed and isinstance(running, Deployment):
        for name, text in running.log_tails():
            report.sections.append((f"{name} (tail)", text))
    return report
