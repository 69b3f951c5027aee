"""store: units sold per product (popularity) and the indexes a category page is read by

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "store_product"


def upgrade() -> None:
    # ADD COLUMN with a constant default: no table rebuild on SQLite, no rewrite on PostgreSQL.
    op.add_column(TABLE, sa.Column("sold", sa.Integer(), server_default="0", nullable=False))
    # ORDER BY sold DESC, id DESC within a category (or price either way), and over the whole
    # catalogue for the bestsellers: each an index read backwards or forwards.
    op.create_index("ix_store_product_category_sold", TABLE, ["category_id", "sold", "id"])
    op.create_index(
        "ix_store_product_category_price", TABLE, ["category_id", "price_kopecks", "id"]
    )
    op.create_index("ix_store_product_sold", TABLE, ["sold", "id"])


def downgrade() -> None:
    op.drop_index("ix_store_product_sold", table_name=TABLE)
    op.drop_index("ix_store_product_category_price", table_name=TABLE)
    op.drop_index("ix_store_product_category_sold", table_name=TABLE)
    # A plain DROP COLUMN (SQLite ≥ 3.35), not a batch rebuild: dropping and re-creating the table
    # with foreign keys on would cascade into store_stock.
    op.drop_column(TABLE, "sold")
