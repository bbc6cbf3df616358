"""summary_job.dismissed_at/_by: a failed job an operator retried or discarded leaves the operations page

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 17:05:00
"""
import sqlalchemy as sa
from alembic import op

import peerdigest.db.models  # noqa: F401 (UTCDateTime)

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('summary_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dismissed_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('dismissed_by_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('summary_job', schema=None) as batch_op:
        batch_op.drop_column('dismissed_by_id')
        batch_op.drop_column('dismissed_at')
