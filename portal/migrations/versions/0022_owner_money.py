"""owner contributions ("send money"): an amount an owner is asked to pay into their account, paid from a link

Revision ID: 0022_owner_money
Revises: 0021_accounting
"""
import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0022_owner_money'
down_revision = '0021_accounting'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('owner_contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('amount', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('memo', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('requested', 'paid', 'cancelled', name='contributionstatus', native_enum=False,
                                create_constraint=True, length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('requested_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=40), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paid_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_owner_contributions_amount_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_owner_contributions_agency_id_agencies'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['owner_entries.id'], name=op.f('fk_owner_contributions_entry_id_owner_entries'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['owner_id'], ['people.id'], name=op.f('fk_owner_contributions_owner_id_people'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_staff_id'], ['staff_users.id'],
                            name=op.f('fk_owner_contributions_requested_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_contributions'))
    )
    with op.batch_alter_table('owner_contributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_contributions_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_owner_contributions_owner_status', ['owner_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_table('owner_contributions')
