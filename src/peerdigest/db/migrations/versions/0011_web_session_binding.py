"""harden web: a browser session records the AUTH_MODE and the API token it was started with

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions of before have no mode: they are refused (their users sign in once more).
    with op.batch_alter_table('web_session') as batch:
        batch.add_column(sa.Column('auth_mode', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('api_token_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            'fk_web_session_api_token_id_api_token', 'api_token', ['api_token_id'], ['id'], ondelete='CASCADE'
        )


def downgrade() -> None:
    with op.batch_alter_table('web_session') as batch:
        batch.drop_constraint('fk_web_session_api_token_id_api_token', type_='foreignkey')
        batch.drop_column('api_token_id')
        batch.drop_column('auth_mode')
