"""auth: registrations counted per e-mail and per client address

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import core.timeutil

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
TABLE = "auth_registration_attempt"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", String(length=254), nullable=False),
        sa.Column("address", String(length=64), nullable=False),
        sa.Column("at", core.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(f"ix_{TABLE}_username_at", TABLE, ["username", "at"])
    op.create_index(f"ix_{TABLE}_address_at", TABLE, ["address", "at"])
    op.create_index(f"ix_{TABLE}_at", TABLE, ["at"])


def downgrade() -> None:
    op.drop_index(f"ix_{TABLE}_at", table_name=TABLE)
    op.drop_index(f"ix_{TABLE}_address_at", table_name=TABLE)
    op.drop_index(f"ix_{TABLE}_username_at", table_name=TABLE)
    op.drop_table(TABLE)
