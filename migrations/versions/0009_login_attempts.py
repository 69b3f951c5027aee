"""auth: wrong passwords counted per account and per client address; logins and e-mails unique
whatever their case (auth_user.username_key)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import core.timeutil

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "auth_login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", String(length=32), nullable=False),
        sa.Column("address", String(length=64), nullable=False),
        sa.Column("at", core.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auth_login_attempt_username_at", "auth_login_attempt", ["username", "at"])
    op.create_index("ix_auth_login_attempt_address_at", "auth_login_attempt", ["address", "at"])
    op.create_index("ix_auth_login_attempt_at", "auth_login_attempt", ["at"])
    # Fails if case twins were already registered: rename one of them first.
    op.add_column("auth_user", sa.Column("username_key", String(length=32), nullable=True))
    op.execute("UPDATE auth_user SET username_key = lower(username)")
    with op.batch_alter_table("auth_user") as batch:
        batch.alter_column("username_key", existing_type=String(length=32), nullable=False)
        batch.create_unique_constraint("uq_auth_user_username_key", ["username_key"])


def downgrade() -> None:
    with op.batch_alter_table("auth_user") as batch:
        batch.drop_constraint("uq_auth_user_username_key", type_="unique")
        batch.drop_column("username_key")
    op.drop_index("ix_auth_login_attempt_at", table_name="auth_login_attempt")
    op.drop_index("ix_auth_login_attempt_address_at", table_name="auth_login_attempt")
    op.drop_index("ix_auth_login_attempt_username_at", table_name="auth_login_attempt")
    op.drop_table("auth_login_attempt")
