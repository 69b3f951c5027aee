"""auth: single sign-on (outside identities linked to accounts, sign-ins in flight, identities
waiting to be linked; a stashed credential may carry the identity its registration links)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import core.timeutil

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
When = core.timeutil.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "auth_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("provider", String(length=32), nullable=False),
        sa.Column("subject", String(length=255), nullable=False),
        sa.Column("email", String(length=254), nullable=False),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "subject", name="uq_auth_identity_provider_subject"),
        sa.UniqueConstraint("user_id", "provider", name="uq_auth_identity_user_provider"),
    )
    op.create_index("ix_auth_identity_user_id", "auth_identity", ["user_id"])
    op.create_table(
        "auth_sso_attempt",
        sa.Column("state_hash", String(length=64), nullable=False),
        sa.Column("provider", String(length=32), nullable=False),
        sa.Column("nonce", String(length=128), nullable=False),
        sa.Column("code_verifier", String(length=128), nullable=False),
        sa.Column("next_url", String(length=512), nullable=False),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    op.create_index("ix_auth_sso_attempt_created_at", "auth_sso_attempt", ["created_at"])
    op.create_table(
        "auth_sso_pending",
        sa.Column("token_hash", String(length=64), nullable=False),
        sa.Column("provider", String(length=32), nullable=False),
        sa.Column("subject", String(length=255), nullable=False),
        sa.Column("email", String(length=254), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("given_name", String(length=64), nullable=False),
        sa.Column("family_name", String(length=64), nullable=False),
        sa.Column("phone", String(length=32), nullable=False),
        sa.Column("next_url", String(length=512), nullable=False),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_auth_sso_pending_created_at", "auth_sso_pending", ["created_at"])
    op.add_column(
        "auth_pending_credential", sa.Column("provider", String(length=32), nullable=True)
    )
    op.add_column(
        "auth_pending_credential", sa.Column("subject", String(length=255), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("auth_pending_credential") as batch:
        batch.drop_column("subject")
        batch.drop_column("provider")
    op.drop_index("ix_auth_sso_pending_created_at", table_name="auth_sso_pending")
    op.drop_table("auth_sso_pending")
    op.drop_index("ix_auth_sso_attempt_created_at", table_name="auth_sso_attempt")
    op.drop_table("auth_sso_attempt")
    op.drop_index("ix_auth_identity_user_id", table_name="auth_identity")
    op.drop_table("auth_identity")
