"""store: the catalogue's words for spelling correction of search queries (filled from the
products already indexed)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:20:00
"""

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from core.text import stem, words

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "store_search_word"
BATCH = 20_000
MAX_WORD = 64


def upgrade() -> None:
    words_table = op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sqlmodel.sql.sqltypes.AutoString(length=MAX_WORD), nullable=False),
        sa.Column("stem", sqlmodel.sql.sqltypes.AutoString(length=MAX_WORD), nullable=False),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("word"),
    )
    # Products indexed before this revision: their words, counted once per product.
    conn = op.get_bind()
    counts: Counter[str] = Counter()
    last = 0
    while rows := conn.execute(
        sa.text(
            "SELECT id, name, description FROM store_product WHERE id > :last"
            " ORDER BY id LIMIT :batch"
        ),
        {"last": last, "batch": BATCH},
    ).all():
        for _, name, body in rows:
            counts.update(
                word
                for word in set(words(name)) | set(words(body))
                if 3 <= len(word) <= MAX_WORD and not word.isdigit()
            )
        last = rows[-1][0]
    if counts:
        op.bulk_insert(
            words_table,
            [{"word": w, "stem": stem(w), "products": n} for w, n in sorted(counts.items())],
        )


def downgrade() -> None:
    op.drop_table(TABLE)
