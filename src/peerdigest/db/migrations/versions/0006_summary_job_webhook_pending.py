"""summary_job.webhook_pending: an ended job whose webhook Redis has not taken yet

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 17:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Jobs that ended before this revision had their chance: none is announced again.
    with op.batch_alter_table('summary_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_pending', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_summary_job_webhook_pending', ['webhook_pending'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('summary_job', schema=None) as batch_op:
        batch_op.drop_index('ix_summary_job_webhook_pending')
        batch_op.drop_column('webhook_pending')
