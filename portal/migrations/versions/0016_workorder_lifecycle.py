"""work-order life cycle: triage fields, gate flags, the events timeline, the job log (visits), an owner's
approval threshold; today's statuses mapped (acknowledged -> triaged, done -> completed)

Revision ID: 0016_workorder_lifecycle
Revises: 0015_sessions
"""
import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0016_workorder_lifecycle'
down_revision = '0015_sessions'
branch_labels = None
depends_on = None

OLD = ('submitted', 'acknowledged', 'awaiting-owner-approval', 'awaiting-vendor-acceptance', 'scheduled',
       'in-progress', 'done', 'cancelled')
NEW = ('submitted', 'triaged', 'awaiting-owner-approval', 'awaiting-vendor-acceptance', 'accepted', 'declined',
       'reschedule-requested', 'scheduled', 'in-progress', 'completed', 'invoiced', 'closed', 'cancelled')
PRIORITY = ('low', 'normal', 'high', 'urgent')
CATEGORY = ('plumbing', 'electrical', 'heating', 'appliance', 'carpentry', 'locks', 'pest-control', 'cleaning',
            'garden', 'general')


def _status(values):
    return sa.Enum(*values, name='workstatus', native_enum=False, create_constraint=True, length=30)


def upgrade() -> None:
    # The status CHECK names the old values: drop it, map the rows, then put back one naming the new.
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_status(OLD), type_=sa.String(length=30),
                              existing_nullable=False)
    op.execute("UPDATE work_orders SET status = 'triaged' WHERE status = 'acknowledged'")
    op.execute("UPDATE work_orders SET status = 'completed' WHERE status = 'done'")
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=30), type_=_status(NEW),
                              existing_nullable=False)
        batch_op.alter_column('scheduled_for', new_column_name='scheduled_at',
                              existing_type=sa.DateTime(timezone=True), existing_nullable=True)
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', portal.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.Enum(*PRIORITY, name='priority', native_enum=False,
                                                          create_constraint=True, length=20),
                                      nullable=False, server_default='normal'))
        batch_op.add_column(sa.Column('category', sa.Enum(*CATEGORY, name='category', native_enum=False,
                                                          create_constraint=True, length=20), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('access_notes', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('permission_to_enter', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('preferred_times', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('proposed_times', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('requires_owner_approval', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('requires_vendor_acceptance', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_work_orders_vendor_id'), ['vendor_id'], unique=False)
    # Today's per-order gates were staff's choice or the amount: keep them as the choice. Amounts
    # already carried the agency's currency.
    op.execute("UPDATE work_orders SET requires_owner_approval = needs_owner_approval, "
               "requires_vendor_acceptance = needs_vendor_acceptance, status_changed_at = updated_at")
    op.execute("UPDATE work_orders SET currency = (SELECT agencies.currency FROM agencies "
               "WHERE agencies.id = work_orders.agency_id) WHERE estimate IS NOT NULL OR total IS NOT NULL")
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.alter_column('status_changed_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_threshold', portal.types.Money(precision=18, scale=4),
                                      nullable=True))

    op.create_table(
        'workorder_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('work_order_id', sa.Integer(), nullable=False),
        sa.Column('at', portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.Column('actor_role', sa.String(length=12), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('actor_name', sa.String(length=200), nullable=False),
        sa.Column('old_status', sa.String(length=30), nullable=True),
        sa.Column('new_status', sa.String(length=30), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.CheckConstraint("source IN ('portal', 'link', 'back_office', 'system')",
                           name=op.f('ck_workorder_events_source_known')),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_workorder_events_agency_id_agencies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_workorder_events_person_id_people'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'],
                                name=op.f('fk_workorder_events_staff_user_id_staff_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'],
                                name=op.f('fk_workorder_events_work_order_id_work_orders'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workorder_events')),
    )
    with op.batch_alter_table('workorder_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workorder_events_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_workorder_events_order', ['work_order_id', 'id'], unique=False)
    # Each existing order's story starts with its request, as far as is known.
    op.execute("INSERT INTO workorder_events (work_order_id, at, action, source, actor_role, staff_user_id, "
               "person_id, actor_name, old_status, new_status, changes, note, agency_id) "
               "SELECT w.id, w.created_at, 'submit', 'portal', 'requester', NULL, w.requester_id, p.name, NULL, "
               "'submitted', '{}', NULL, w.agency_id FROM work_orders w JOIN people p ON p.id = w.requester_id")

    op.create_table(
        'workorder_visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('work_order_id', sa.Integer(), nullable=False),
        sa.Column('arrived_at', portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('departed_at', portal.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.CheckConstraint('departed_at IS NULL OR departed_at >= arrived_at',
                           name=op.f('ck_workorder_visits_in_order')),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_workorder_visits_agency_id_agencies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'],
                                name=op.f('fk_workorder_visits_work_order_id_work_orders'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workorder_visits')),
    )
    with op.batch_alter_table('workorder_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workorder_visits_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workorder_visits_work_order_id'), ['work_order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('workorder_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workorder_visits_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_workorder_visits_agency_id'))
    op.drop_table('workorder_visits')
    with op.batch_alter_table('workorder_events', schema=None) as batch_op:
        batch_op.drop_index('ix_workorder_events_order')
        batch_op.drop_index(batch_op.f('ix_workorder_events_agency_id'))
    op.drop_table('workorder_events')
    # Not a batch: on SQLite that rebuilds the table, and dropping `people` with foreign keys on would
    # cascade to every row that names a person. Both databases drop a plain column in place.
    op.execute("ALTER TABLE people DROP COLUMN approval_threshold")
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_status(NEW), type_=sa.String(length=30),
                              existing_nullable=False)
    # The new statuses fold back into the nearest old one.
    op.execute("UPDATE work_orders SET status = 'acknowledged' WHERE status IN ('triaged', 'accepted', 'declined', "
               "'reschedule-requested')")
    op.execute("UPDATE work_orders SET status = 'done' WHERE status IN ('completed', 'invoiced', 'closed')")
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        # Their CHECKs go with their enum types, before the columns go.
        batch_op.alter_column('priority', existing_type=sa.Enum(*PRIORITY, name='priority', native_enum=False,
                                                                create_constraint=True, length=20),
                              type_=sa.String(length=20), existing_nullable=False)
        batch_op.alter_column('category', existing_type=sa.Enum(*CATEGORY, name='category', native_enum=False,
                                                                create_constraint=True, length=20),
                              type_=sa.String(length=20), existing_nullable=True)
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_orders_vendor_id'))
        for name in ('requires_vendor_acceptance', 'requires_owner_approval', 'proposed_times', 'preferred_times',
                     'permission_to_enter', 'access_notes', 'currency', 'category', 'priority',
                     'status_changed_at', 'status_reason'):
            batch_op.drop_column(name)
        batch_op.alter_column('scheduled_at', new_column_name='scheduled_for',
                              existing_type=sa.DateTime(timezone=True), existing_nullable=True)
        batch_op.alter_column('status', existing_type=sa.String(length=30), type_=_status(OLD),
                              existing_nullable=False)
