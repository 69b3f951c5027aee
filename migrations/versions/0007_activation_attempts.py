"""billing: wrong gift card activation codes, counted per shopper and per client address

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import core.timeutil

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "billing_activation_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", String(length=32), nullable=False),
        sa.Column("address", String(length=64), nullable=False),
        sa.Column("at", core.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_billing_activation_attempt_username_at",
        "billing_activation_attempt",
        ["username", "at"],
    )
    op.create_index(
        "ix_billing_activation_attempt_address_at", "billing_activation_attempt", ["address", "at"]
    )
    op.create_index("ix_billing_activation_attempt_at", "billing_activation_attempt", ["at"])


def downgrade() -> None:
    op.drop_index("ix_billing_activation_attempt_at", table_name="billing_activation_attempt")
    op.drop_index(
        "ix_billing_activation_attempt_address_at", table_name="billing_activation_attempt"
    )
    op.drop_index(
        "ix_billing_activation_attempt_username_at", table_name="billing_activation_attempt"
    )
    op.drop_table("billing_activation_attempt")
