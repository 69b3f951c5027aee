"""The shop fixtures for the recordings (tests/support/shop_fixtures.py) and the recorder's option:
which set to write (tests/replay/record.py passes it)."""

import pytest

from tests.support.shop_fixtures import seeded as seeded
from tests.support.shop_fixtures import shop as shop


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--histories-release",
        default=None,
        help="the set recorded histories go to (default: the version in pyproject.toml)",
    )
