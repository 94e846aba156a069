"""violation notices (with their photos and steps) and insurance quotes (accepted into one charge)

Revision ID: 0025_violations_quotes
Revises: 0024_applicants
"""
import sqlalchemy as sa
from alembic import op

import portal.types


revision = '0025_violations_quotes'
down_revision = '0024_applicants'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('violations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('lease_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('noise', 'parking', 'pets', 'smoking', 'rubbish', 'damage', 'occupancy', 'common-areas', 'other', name='violationcategory', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('rule', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'acknowledged', 'disputed', 'resolved', 'withdrawn', name='violationstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('status_changed_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('response_comment', sa.Text(), nullable=True),
    sa.Column('responded_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closing_note', sa.Text(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(lease_id IS NULL AND booking_id IS NOT NULL) OR (lease_id IS NOT NULL AND booking_id IS NULL)', name=op.f('ck_violations_for_lease_or_booking')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_violations_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_violations_booking_id_bookings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_violations_document_id_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lease_id'], ['leases.id'], name=op.f('fk_violations_lease_id_leases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_violations_person_id_people'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by'], ['staff_users.id'], name=op.f('fk_violations_recorded_by_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_violations_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_violations'))
    )
    with op.batch_alter_table('violations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_violations_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_violations_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_violations_lease_id'), ['lease_id'], unique=False)
        batch_op.create_index('ix_violations_person_status', ['person_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_violations_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_violations_unit_id'), ['unit_id'], unique=False)

    op.create_table('insurance_quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('lease_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('insurer', sa.String(length=120), nullable=False),
    sa.Column('product', sa.String(length=120), nullable=False),
    sa.Column('cover', sa.Text(), nullable=False),
    sa.Column('premium', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'accepted', 'declined', 'withdrawn', name='quotestatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('charge_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_via', sa.String(length=12), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status <> 'accepted' OR charge_id IS NOT NULL", name=op.f('ck_insurance_quotes_accepted_has_charge')),
    sa.CheckConstraint('(lease_id IS NULL AND booking_id IS NOT NULL) OR (lease_id IS NOT NULL AND booking_id IS NULL)', name=op.f('ck_insurance_quotes_for_lease_or_booking')),
    sa.CheckConstraint('premium > 0', name=op.f('ck_insurance_quotes_premium_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_insurance_quotes_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_insurance_quotes_booking_id_bookings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['charge_id'], ['charges.id'], name=op.f('fk_insurance_quotes_charge_id_charges'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['staff_users.id'], name=op.f('fk_insurance_quotes_created_by_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lease_id'], ['leases.id'], name=op.f('fk_insurance_quotes_lease_id_leases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_insurance_quotes_person_id_people'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_insurance_quotes_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurance_quotes')),
    sa.UniqueConstraint('charge_id', name=op.f('uq_insurance_quotes_charge_id'))
    )
    with op.batch_alter_table('insurance_quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insurance_quotes_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_insurance_quotes_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_insurance_quotes_lease_id'), ['lease_id'], unique=False)
        batch_op.create_index('ix_insurance_quotes_person_status', ['person_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_insurance_quotes_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_insurance_quotes_unit_id'), ['unit_id'], unique=False)

    op.create_table('violation_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('violation_id', sa.Integer(), nullable=False),
    sa.Column('at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('old_status', sa.String(length=20), nullable=True),
    sa.Column('new_status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("source IN ('portal', 'link', 'back_office', 'system')", name=op.f('ck_violation_events_source_known')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_violation_events_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_violation_events_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_violation_events_staff_user_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['violation_id'], ['violations.id'], name=op.f('fk_violation_events_violation_id_violations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_violation_events'))
    )
    with op.batch_alter_table('violation_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_violation_events_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_violation_events_violation', ['violation_id', 'id'], unique=False)

    op.create_table('violation_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('violation_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('has_thumbnail', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_violation_photos_size_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_violation_photos_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_violation_photos_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['violation_id'], ['violations.id'], name=op.f('fk_violation_photos_violation_id_violations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_violation_photos')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_violation_photos_stored_name'))
    )
    with op.batch_alter_table('violation_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_violation_photos_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_violation_photos_violation_id'), ['violation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('violation_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_violation_photos_violation_id'))
        batch_op.drop_index(batch_op.f('ix_violation_photos_agency_id'))

    op.drop_table('violation_photos')
    with op.batch_alter_table('violation_events', schema=None) as batch_op:
        batch_op.drop_index('ix_violation_events_violation')
        batch_op.drop_index(batch_op.f('ix_violation_events_agency_id'))

    op.drop_table('violation_events')
    with op.batch_alter_table('insurance_quotes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insurance_quotes_unit_id'))
        batch_op.drop_index(batch_op.f('ix_insurance_quotes_status'))
        batch_op.drop_index('ix_insurance_quotes_person_status')
        batch_op.drop_index(batch_op.f('ix_insurance_quotes_lease_id'))
        batch_op.drop_index(batch_op.f('ix_insurance_quotes_booking_id'))
        batch_op.drop_index(batch_op.f('ix_insurance_quotes_agency_id'))

    op.drop_table('insurance_quotes')
    with op.batch_alter_table('violations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_violations_unit_id'))
        batch_op.drop_index(batch_op.f('ix_violations_status'))
        batch_op.drop_index('ix_violations_person_status')
        batch_op.drop_index(batch_op.f('ix_violations_lease_id'))
        batch_op.drop_index(batch_op.f('ix_violations_booking_id'))
        batch_op.drop_index(batch_op.f('ix_violations_agency_id'))

    op.drop_table('violations')
