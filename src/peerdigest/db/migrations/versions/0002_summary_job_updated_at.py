"""summary_job.updated_at: when a job last changed, for `jobs?since=`

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 16:40:00
"""
import sqlalchemy as sa
from alembic import op

import peerdigest.db.models  # noqa: F401 (UTCDateTime)

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('summary_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))
    # Existing jobs last changed when they ended, started or were created, whichever came last that is known.
    op.execute("UPDATE summary_job SET updated_at = COALESCE(completed_at, started_at, enqueued_at, created_at)")
    with op.batch_alter_table('summary_job', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=peerdigest.db.models.UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_summary_job_eval_updated', ['evaluation_id', 'updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('summary_job', schema=None) as batch_op:
        batch_op.drop_index('ix_summary_job_eval_updated')
        batch_op.drop_column('updated_at')
