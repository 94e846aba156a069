"""mail outbox: retries (next_attempt_at), delivery leases (lease_until), sign-in requests

Revision ID: 0014_mail
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0014_mail'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', portal.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lease_until', portal.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_messages_status_next', ['status', 'next_attempt_at'], unique=False)
    op.create_table(
        'signin_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_signin_requests_agency_id_agencies'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_requests')),
    )
    with op.batch_alter_table('signin_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_requests_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signin_requests_created_at'), ['created_at'], unique=False)
    # Messages left 'sending' by an older release have no lease: give them one that has lapsed,
    # so the first sweep queues them again (they were stuck for good before).
    op.execute("UPDATE messages SET lease_until = created_at WHERE status = 'sending' "
               "AND message_id NOT LIKE '<task-%'")


def downgrade() -> None:
    with op.batch_alter_table('signin_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_requests_created_at'))
        batch_op.drop_index(batch_op.f('ix_signin_requests_agency_id'))
    op.drop_table('signin_requests')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_status_next')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('next_attempt_at')
