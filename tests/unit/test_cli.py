"""The `shopflow` development commands against a real (SQLite) database."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from services.billing import normalize_code


def shopflow(
    *args: str, database: Path, environment: str = "dev"
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHOP_")}
    env.update(
        SHOP_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        SHOP_ENVIRONMENT=environment,
        SHOP_DATA_DIR=str(database.parent),
    )
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_giftcard_issues_a_card_whose_code_only_the_output_knows(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    assert shopflow("migrate", database=database).returncode == 0
    issued = shopflow("giftcard", "500", database=database)
    assert issued.returncode == 0, issued.stderr
    (code,) = re.findall(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}", issued.stdout)

    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT code_hash, balance_kopecks, owner_username FROM billing_gift_card"
        )
        (stored,) = rows.fetchall()
    assert stored == (hashlib.sha256(normalize_code(code).encode()).hexdigest(), 500_00, None)

    wrong = shopflow("giftcard", "-5", database=database)
    assert wrong.returncode != 0
    assert "Сумма подарочной карты" in wrong.stderr
    refused = shopflow("giftcard", "500", database=database, environment="production")
    assert refused.returncode != 0
