"""collect in the app: evaluations' open and close times and options, submissions, the mail outbox,
one-time sign-in links; a school's time zone and language, a user's language; disabled users

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:06:37.222331
"""
import sqlalchemy as sa
from alembic import op

import peerdigest.db.models  # noqa: F401 (UTCDateTime)


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outgoing_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=2000), nullable=True),
    sa.Column('created_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_mail_evaluation_id'), ['evaluation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_mail_school_id'), ['school_id'], unique=False)

    op.create_table('sign_in_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('next_path', sa.String(length=500), nullable=False),
    sa.Column('created_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash')
    )
    with op.batch_alter_table('sign_in_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_link_user_id'), ['user_id'], unique=False)

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('started_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('saved_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('evaluation_id', 'reviewer_id')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_evaluation_id'), ['evaluation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_reviewer_id'), ['reviewer_id'], unique=False)

    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opens_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('self_rating', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('self_rating_counts', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('comment_required', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('remind_hours_before', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('archived_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=60), server_default='Europe/Amsterdam', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='nl', nullable=False))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('disabled_at', peerdigest.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disabled_by_id', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('disabled_by_id')
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('language')

    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('time_zone')

    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('remind_hours_before')
        batch_op.drop_column('comment_required')
        batch_op.drop_column('self_rating_counts')
        batch_op.drop_column('self_rating')
        batch_op.drop_column('opens_at')

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_submission_evaluation_id'))

    op.drop_table('submission')
    with op.batch_alter_table('sign_in_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_link_user_id'))

    op.drop_table('sign_in_link')
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_school_id'))
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_evaluation_id'))

    op.drop_table('outgoing_mail')
