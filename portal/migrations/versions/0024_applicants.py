"""applicants: prospective tenants or bookers of one unit, their timeline; whether a unit takes applications

Revision ID: 0024_applicants
Revises: 0023_owner_portal
"""
from alembic import op
import sqlalchemy as sa
import portal.types


revision = '0024_applicants'
down_revision = '0023_owner_portal'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('applicants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('tenant', 'booking', name='applicantkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('move_in', sa.Date(), nullable=True),
    sa.Column('arrival', sa.Date(), nullable=True),
    sa.Column('departure', sa.Date(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'awaiting-owner', 'approved', 'declined', 'withdrawn', name='applicantstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('status_changed_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_name', sa.String(length=200), nullable=True),
    sa.Column('decided_by_person_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('decided_via', sa.String(length=12), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('reminded_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("source IN ('public_form', 'staff')", name=op.f('ck_applicants_source_known')),
    sa.CheckConstraint('departure IS NULL OR arrival IS NULL OR departure > arrival', name=op.f('ck_applicants_dates_in_order')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_applicants_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_person_id'], ['people.id'], name=op.f('fk_applicants_decided_by_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_staff_id'], ['staff_users.id'], name=op.f('fk_applicants_decided_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_applicants_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applicants'))
    )
    with op.batch_alter_table('applicants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applicants_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applicants_status'), ['status'], unique=False)
        batch_op.create_index('ix_applicants_unit_status', ['unit_id', 'status'], unique=False)

    op.create_table('applicant_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('via', sa.String(length=12), nullable=False),
    sa.Column('actor_role', sa.String(length=12), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('old_status', sa.String(length=20), nullable=True),
    sa.Column('new_status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("via IN ('portal', 'link', 'back_office', 'system')", name=op.f('ck_applicant_events_via_known')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_applicant_events_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['applicant_id'], ['applicants.id'], name=op.f('fk_applicant_events_applicant_id_applicants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_applicant_events_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_applicant_events_staff_user_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applicant_events'))
    )
    with op.batch_alter_table('applicant_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applicant_events_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_applicant_events_applicant', ['applicant_id', 'id'], unique=False)

    # A plain ADD COLUMN, not a batch: on SQLite a batch rebuilds `units`, and with foreign keys on that
    # would reach every row naming a unit (see 0016, 0020). Off for every existing unit: opt in.
    op.add_column('units', sa.Column('accepting_applications', sa.Boolean(), server_default=sa.false(),
                                     nullable=False))


def downgrade() -> None:
    op.execute("ALTER TABLE units DROP COLUMN accepting_applications")

    with op.batch_alter_table('applicant_events', schema=None) as batch_op:
        batch_op.drop_index('ix_applicant_events_applicant')
        batch_op.drop_index(batch_op.f('ix_applicant_events_agency_id'))

    op.drop_table('applicant_events')
    with op.batch_alter_table('applicants', schema=None) as batch_op:
        batch_op.drop_index('ix_applicants_unit_status')
        batch_op.drop_index(batch_op.f('ix_applicants_status'))
        batch_op.drop_index(batch_op.f('ix_applicants_agency_id'))

    op.drop_table('applicants')
