"""one sessions table for staff and portal users (kind 'staff' | 'portal'), replacing staff_sessions
and portal_sessions; existing sessions are moved, so nobody is signed out

Revision ID: 0015_sessions
Revises: 0014_mail
"""
import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0015_sessions'
down_revision = '0014_mail'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sessions',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "(kind = 'staff' AND user_id IS NOT NULL AND person_id IS NULL) OR "
            "(kind = 'portal' AND person_id IS NOT NULL AND user_id IS NULL AND agency_id IS NOT NULL)",
            name=op.f('ck_sessions_kind_subject')),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_sessions_agency_id_agencies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_sessions_person_id_people'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], name=op.f('fk_sessions_user_id_staff_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_sessions')),
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_created_at'), ['created_at'], unique=False)
    op.execute("INSERT INTO sessions (token, kind, user_id, person_id, agency_id, created_at, ip, user_agent) "
               "SELECT s.token, 'staff', s.user_id, NULL, u.agency_id, s.created_at, s.ip, s.user_agent "
               "FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id")
    op.execute("INSERT INTO sessions (token, kind, user_id, person_id, agency_id, created_at, ip, user_agent) "
               "SELECT token, 'portal', NULL, person_id, agency_id, created_at, NULL, NULL FROM portal_sessions")
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_user_id'))
    op.drop_table('staff_sessions')
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_sessions_person_id'))
    op.drop_table('portal_sessions')


def downgrade() -> None:
    op.create_table(
        'staff_sessions',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], name=op.f('fk_staff_sessions_user_id_staff_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_staff_sessions')),
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_user_id'), ['user_id'], unique=False)
    op.create_table(
        'portal_sessions',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_portal_sessions_agency_id_agencies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_portal_sessions_person_id_people'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_portal_sessions')),
    )
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_sessions_person_id'), ['person_id'], unique=False)
    op.execute("INSERT INTO staff_sessions (token, user_id, created_at, ip, user_agent) "
               "SELECT token, user_id, created_at, ip, user_agent FROM sessions WHERE kind = 'staff'")
    op.execute("INSERT INTO portal_sessions (token, person_id, agency_id, created_at) "
               "SELECT token, person_id, agency_id, created_at FROM sessions WHERE kind = 'portal'")
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_created_at'))
        batch_op.drop_index(batch_op.f('ix_sessions_person_id'))
        batch_op.drop_index(batch_op.f('ix_sessions_user_id'))
    op.drop_table('sessions')
