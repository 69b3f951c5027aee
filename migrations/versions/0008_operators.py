"""operators: a user's role (SHOPPER or OPERATOR) and the operators' audit log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import core.timeutil

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("auth_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", String(length=16), server_default="SHOPPER", nullable=False)
        )
    op.create_table(
        "operator_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator", String(length=32), nullable=False),
        sa.Column("order_id", String(length=36), nullable=False),
        sa.Column("action", String(length=16), nullable=False),
        sa.Column("detail", String(length=500), nullable=False),
        sa.Column("at", core.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_operator_action_operator", "operator_action", ["operator"])
    op.create_index("ix_operator_action_order_id_at", "operator_action", ["order_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_operator_action_order_id_at", table_name="operator_action")
    op.drop_index("ix_operator_action_operator", table_name="operator_action")
    op.drop_table("operator_action")
    with op.batch_alter_table("auth_user", schema=None) as batch_op:
        batch_op.drop_column("role")
