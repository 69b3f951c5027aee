"""The shop for the API tests (tests/support/shop_fixtures.py)."""

from tests.support.shop_fixtures import seeded as seeded
from tests.support.shop_fixtures import shop as shop
