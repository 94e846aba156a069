"""approval chasing: when a waiting order or invoice was reminded; solutions anchored on a work order's
visit, with offsets in hours

Revision ID: 0019_approval_reminders
Revises: 0018_invoice_events
"""
import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0019_approval_reminders'
down_revision = '0018_invoice_events'
branch_labels = None
depends_on = None

ANCHORS = ('immediately', 'booked', 'arrival', 'departure', 'due', 'start', 'reviewed')
UNITS = ('days', 'months')


def _anchor(values):
    return sa.Enum(*values, name='anchor', native_enum=False, create_constraint=True, length=20)


def _unit(values):
    return sa.Enum(*values, name='offsetunit', native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', portal.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', portal.types.UTCDateTime(timezone=True), nullable=True))
    # The CHECKs name the old values: through a plain string, then back to an enum naming the new ones.
    with op.batch_alter_table('solutions', schema=None) as batch_op:
        batch_op.alter_column('anchor', existing_type=_anchor(ANCHORS), type_=sa.String(length=20),
                              existing_nullable=False)
        batch_op.alter_column('offset_unit', existing_type=_unit(UNITS), type_=sa.String(length=20),
                              existing_nullable=False)
    with op.batch_alter_table('solutions', schema=None) as batch_op:
        batch_op.alter_column('anchor', existing_type=sa.String(length=20), type_=_anchor((*ANCHORS, 'visit')),
                              existing_nullable=False)
        batch_op.alter_column('offset_unit', existing_type=sa.String(length=20), type_=_unit((*UNITS, 'hours')),
                              existing_nullable=False)


def downgrade() -> None:
    op.execute("DELETE FROM solutions WHERE anchor = 'visit' OR offset_unit = 'hours'")
    with op.batch_alter_table('solutions', schema=None) as batch_op:
        batch_op.alter_column('anchor', existing_type=_anchor((*ANCHORS, 'visit')), type_=sa.String(length=20),
                              existing_nullable=False)
        batch_op.alter_column('offset_unit', existing_type=_unit((*UNITS, 'hours')), type_=sa.String(length=20),
                              existing_nullable=False)
    with op.batch_alter_table('solutions', schema=None) as batch_op:
        batch_op.alter_column('anchor', existing_type=sa.String(length=20), type_=_anchor(ANCHORS),
                              existing_nullable=False)
        batch_op.alter_column('offset_unit', existing_type=sa.String(length=20), type_=_unit(UNITS),
                              existing_nullable=False)
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
