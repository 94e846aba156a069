"""statement lines: an index on their source (what was posted for a row is found by it at reconciliation)

Revision ID: 0027_statement_line_source_index
Revises: 0026_surveys
"""
from alembic import op


revision = '0027_statement_line_source_index'
down_revision = '0026_surveys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.create_index('ix_statement_lines_source', ['source_type', 'source_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_statement_lines_source')
