"""agency locale: one date format per agency

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=False, server_default='en_GB'))
    # Derived from the language the agency already has: English keeps day-month-year (en_GB).
    op.execute("UPDATE agencies SET locale = language WHERE language IS NOT NULL AND language <> '' "
               "AND language NOT LIKE 'en%'")


def downgrade() -> None:
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('locale')
