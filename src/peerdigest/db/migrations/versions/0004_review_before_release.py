"""Review before release: evaluation.release and who approved or edited each summary

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:45:00
"""
import sqlalchemy as sa
from alembic import op

import peerdigest.db.models  # noqa: F401 (UTCDateTime)

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('release', sa.String(length=20), nullable=False, server_default='after_review'))
    # Evaluations that existed before review did showed every summary at once; their students keep
    # what they could already read. New evaluations are reviewed unless the teacher says otherwise.
    op.execute("UPDATE evaluation SET release = 'automatic'")
    with op.batch_alter_table('feedback_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approved_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('edited_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('edited_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feedback_summary', schema=None) as batch_op:
        batch_op.drop_column('edited_at')
        batch_op.drop_column('edited_by_id')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by_id')
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_column('release')
