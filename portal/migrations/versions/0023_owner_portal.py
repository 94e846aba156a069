"""owner portal: each portal account's visits (what's new since the last one), and the lease or booking
a document is about (occupant agreements, shown to the unit's owners)

Revision ID: 0023_owner_portal
Revises: 0022_owner_money
"""
import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0023_owner_portal'
down_revision = '0022_owner_money'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('portal_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', portal.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('previous_seen_at', portal.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('booking_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_lease_id'), ['lease_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_booking_id'), ['booking_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_documents_lease_id_leases'), 'leases', ['lease_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_documents_booking_id_bookings'), 'bookings', ['booking_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_documents_booking_id_bookings'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_documents_lease_id_leases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_documents_booking_id'))
        batch_op.drop_index(batch_op.f('ix_documents_lease_id'))
        batch_op.drop_column('booking_id')
        batch_op.drop_column('lease_id')
    with op.batch_alter_table('portal_accounts', schema=None) as batch_op:
        batch_op.drop_column('previous_seen_at')
        batch_op.drop_column('last_seen_at')
