"""The operators' side in the browser: an operator account (made the way an operator is made, by
`shopflow operator <username>` against the store's database) and moving an order on."""

from __future__ import annotations

import os
import subprocess
import sys

from playwright.sync_api import Page, expect

from tests.support.store import REPO_ROOT, Store

OPERATOR_COMMAND_TIMEOUT_S = 60


def make_operator(store: Store, username: str) -> None:
    """`python -m workers.cli operator <username>` on the running store's data directory."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHOP_")}
    env.update({"SHOP_DATA_DIR": str(store.log_path.parent), "SHOP_ENVIRONMENT": "dev"})
    subprocess.run(
        [sys.executable, "-m", "workers.cli", "operator", username],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=OPERATOR_COMMAND_TIMEOUT_S,
    )


def advance(page: Page, order_id: str, stage: str) -> None:
    """On the order's operator page, the button for the next stage (it must be `stage`)."""
    page.goto(f"/operator/order/{order_id}")
    button = page.locator("#advance")
    expect(button).to_have_attribute("data-stage", stage)
    button.click()
    expect(page.locator("#operator-order")).to_have_attribute("data-stage", stage)
