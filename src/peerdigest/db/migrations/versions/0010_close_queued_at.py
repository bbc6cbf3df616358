"""collect-mail: evaluation.close_queued_at, when the scheduler queued the summaries at the deadline

Evaluations whose deadline passed before this migration count as handled: the
scheduler starts with the ones that close from now on, not with every old class.

Revision ID: 0010
Revises: 0009
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import peerdigest.db.models  # noqa: F401 (UTCDateTime)


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_queued_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))
    evaluation = sa.table(
        'evaluation',
        sa.column('deadline', peerdigest.db.models.UTCDateTime(timezone=True)),
        sa.column('close_queued_at', peerdigest.db.models.UTCDateTime(timezone=True)),
    )
    now = datetime.now(timezone.utc)
    op.execute(evaluation.update().where(evaluation.c.deadline <= now).values(close_queued_at=evaluation.c.deadline))


def downgrade() -> None:
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_column('close_queued_at')
