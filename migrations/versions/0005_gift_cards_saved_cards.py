"""payment: gift cards in billing (the transaction log covers them), saved bank cards

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import core.timeutil

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "billing_gift_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", String(length=64), nullable=False),
        sa.Column("masked", String(length=24), nullable=False),
        sa.Column("initial_kopecks", sa.Integer(), nullable=False),
        sa.Column("balance_kopecks", sa.Integer(), nullable=False),
        sa.Column("recipient_name", String(length=80), nullable=False),
        sa.Column("recipient_email", String(length=254), nullable=False),
        sa.Column("design", String(length=20), nullable=False),
        sa.Column("issue_key", String(length=200), nullable=False),
        sa.Column("owner_username", String(length=32), nullable=True),
        sa.Column("created_at", core.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_at", core.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.Column("forgotten_at", core.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("balance_kopecks >= 0", name="gift_card_balance_not_negative"),
        sa.CheckConstraint("initial_kopecks > 0", name="gift_card_initial_positive"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
        sa.UniqueConstraint("issue_key"),
    )
    op.create_index("ix_billing_gift_card_owner_username", "billing_gift_card", ["owner_username"])
    with op.batch_alter_table("billing_transaction", schema=None) as batch_op:
        batch_op.alter_column("wallet_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("gift_card_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_billing_transaction_gift_card_id", "billing_gift_card", ["gift_card_id"], ["id"]
        )
        batch_op.create_index("ix_billing_transaction_gift_card_id", ["gift_card_id"])
        batch_op.create_check_constraint(
            "transaction_one_account", "(wallet_id IS NULL) <> (gift_card_id IS NULL)"
        )
    op.create_table(
        "payment_saved_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", String(length=32), nullable=False),
        sa.Column("bank_token", String(length=64), nullable=False),
        sa.Column("masked", String(length=24), nullable=False),
        sa.Column("expiry", String(length=5), nullable=False),
        sa.Column("created_at", core.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username", "bank_token", name="saved_card_once"),
    )
    op.create_index("ix_payment_saved_card_username", "payment_saved_card", ["username"])


def downgrade() -> None:
    op.drop_index("ix_payment_saved_card_username", table_name="payment_saved_card")
    op.drop_table("payment_saved_card")
    with op.batch_alter_table("billing_transaction", schema=None) as batch_op:
        batch_op.drop_constraint("transaction_one_account", type_="check")
        batch_op.drop_index("ix_billing_transaction_gift_card_id")
        batch_op.drop_constraint("fk_billing_transaction_gift_card_id", type_="foreignkey")
        batch_op.drop_column("gift_card_id")
        batch_op.alter_column("wallet_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_billing_gift_card_owner_username", table_name="billing_gift_card")
    op.drop_table("billing_gift_card")
