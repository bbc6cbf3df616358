"""a summary's written_at: when its text was written, which an approval or a stale mark must not move

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 00:40:00
"""
import sqlalchemy as sa
from alembic import op

import peerdigest.db.models  # noqa: F401 (UTCDateTime)


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feedback_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))
    # The best known time for summaries written before: their last change.
    op.execute("UPDATE feedback_summary SET written_at = updated_at")
    with op.batch_alter_table('feedback_summary', schema=None) as batch_op:
        batch_op.alter_column('written_at', nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback_summary', schema=None) as batch_op:
        batch_op.drop_column('written_at')
