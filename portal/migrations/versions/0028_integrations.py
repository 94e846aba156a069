"""integrations: sources of stays, their runs, blocked dates, calendar exports

Revision ID: 0028_integrations
Revises: 0027_statement_line_source_index
Create Date: 2026-11-30 06:18:46.638531
"""
from alembic import op
import sqlalchemy as sa
import portal.types


revision = '0028_integrations'
down_revision = '0027_statement_line_source_index'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('integrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('ical', 'csv', 'pms', name='integrationkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('sync_stays', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('sync_changed_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('when_missing', sa.Enum('cancel', 'keep', name='whenmissing', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('last_run_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('interval_minutes >= 5', name=op.f('ck_integrations_interval_not_too_short')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_integrations_agency_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrations')),
    sa.UniqueConstraint('agency_id', 'name', name=op.f('uq_integrations_agency_id_name'))
    )
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrations_agency_id'), ['agency_id'], unique=False)

    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('running', 'succeeded', 'partial', 'failed', name='runstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('started_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('units_created', sa.Integer(), nullable=False),
    sa.Column('units_updated', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_sync_runs_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_sync_runs_integration_id_integrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_runs_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_runs_integration_id'), ['integration_id'], unique=False)

    op.create_table('blocked_dates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=True),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('end_date > start_date', name=op.f('ck_blocked_dates_dates_in_order')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_blocked_dates_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_blocked_dates_integration_id_integrations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_blocked_dates_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocked_dates')),
    sa.UniqueConstraint('integration_id', 'external_id', name=op.f('uq_blocked_dates_integration_id_external_id'))
    )
    with op.batch_alter_table('blocked_dates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blocked_dates_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_blocked_dates_integration_id'), ['integration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_blocked_dates_unit_id'), ['unit_id'], unique=False)

    op.create_table('calendar_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_calendar_exports_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_calendar_exports_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_exports')),
    sa.UniqueConstraint('token', name=op.f('uq_calendar_exports_token')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_calendar_exports_unit_id'))
    )
    with op.batch_alter_table('calendar_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_exports_agency_id'), ['agency_id'], unique=False)

    op.create_table('integration_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_integration_feeds_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_integration_feeds_integration_id_integrations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_integration_feeds_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_feeds')),
    sa.UniqueConstraint('integration_id', 'unit_id', name=op.f('uq_integration_feeds_integration_id_unit_id'))
    )
    with op.batch_alter_table('integration_feeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integration_feeds_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_integration_feeds_integration_id'), ['integration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_integration_feeds_unit_id'), ['unit_id'], unique=False)

    op.create_table('sync_errors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('excerpt', sa.Text(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_sync_errors_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_sync_errors_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_errors'))
    )
    with op.batch_alter_table('sync_errors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_errors_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_errors_run_id'), ['run_id'], unique=False)

    op.create_table('booking_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('first_seen_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_booking_sources_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_sources_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_booking_sources_integration_id_integrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_sources')),
    sa.UniqueConstraint('integration_id', 'external_id', name=op.f('uq_booking_sources_integration_id_external_id'))
    )
    with op.batch_alter_table('booking_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_sources_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_sources_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_sources_integration_id'), ['integration_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('booking_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_sources_integration_id'))
        batch_op.drop_index(batch_op.f('ix_booking_sources_booking_id'))
        batch_op.drop_index(batch_op.f('ix_booking_sources_agency_id'))

    op.drop_table('booking_sources')
    with op.batch_alter_table('sync_errors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_errors_run_id'))
        batch_op.drop_index(batch_op.f('ix_sync_errors_agency_id'))

    op.drop_table('sync_errors')
    with op.batch_alter_table('integration_feeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integration_feeds_unit_id'))
        batch_op.drop_index(batch_op.f('ix_integration_feeds_integration_id'))
        batch_op.drop_index(batch_op.f('ix_integration_feeds_agency_id'))

    op.drop_table('integration_feeds')
    with op.batch_alter_table('calendar_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_exports_agency_id'))

    op.drop_table('calendar_exports')
    with op.batch_alter_table('blocked_dates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blocked_dates_unit_id'))
        batch_op.drop_index(batch_op.f('ix_blocked_dates_integration_id'))
        batch_op.drop_index(batch_op.f('ix_blocked_dates_agency_id'))

    op.drop_table('blocked_dates')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_runs_integration_id'))
        batch_op.drop_index(batch_op.f('ix_sync_runs_agency_id'))

    op.drop_table('sync_runs')
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrations_agency_id'))

    op.drop_table('integrations')

