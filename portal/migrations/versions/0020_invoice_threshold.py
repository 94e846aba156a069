"""an owner's own invoice-approval threshold, on the person like the work-order one (was agency settings JSON)

Revision ID: 0020_invoice_threshold
Revises: 0019_approval_reminders
"""
import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0020_invoice_threshold'
down_revision = '0019_approval_reminders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoice_approval_threshold', portal.types.Money(precision=18, scale=4),
                                      nullable=True))


def downgrade() -> None:
    # Not a batch: on SQLite that rebuilds `people`, and with foreign keys on that would cascade to every
    # row naming a person (see 0016). Both databases drop a plain column in place.
    op.execute("ALTER TABLE people DROP COLUMN invoice_approval_threshold")
