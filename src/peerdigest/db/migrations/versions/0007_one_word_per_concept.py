"""Rename to the API's words: feedback_summary.summary_text, .generation_method; summary_job.error_message

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 20:00:00
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# (table, old name, new name); only names change, so the data stays as it is.
RENAMES = [
    ('feedback_summary', 'text', 'summary_text'),
    ('feedback_summary', 'method', 'generation_method'),
    ('summary_job', 'error', 'error_message'),
]


def upgrade() -> None:
    _rename({(table, old): new for table, old, new in RENAMES})


def downgrade() -> None:
    _rename({(table, new): old for table, old, new in RENAMES})


def _rename(names: dict[tuple[str, str], str]) -> None:
    # batch_alter_table: a plain ALTER … RENAME COLUMN on PostgreSQL, a copy of the table on SQLite.
    for table in dict.fromkeys(table for table, _ in names):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for (in_table, old), new in names.items():
                if in_table == table:
                    batch_op.alter_column(old, new_column_name=new)
