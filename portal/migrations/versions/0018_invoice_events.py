"""an order's timeline records its invoices' steps too: workorder_events.invoice_id

Revision ID: 0018_invoice_events
Revises: 0017_invoices_photos
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_invoice_events'
down_revision = '0017_invoices_photos'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workorder_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoice_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_workorder_events_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_workorder_events_invoice_id_invoices'), 'invoices',
                                    ['invoice_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('workorder_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_workorder_events_invoice_id_invoices'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_workorder_events_invoice_id'))
        batch_op.drop_column('invoice_id')
