"""api keys (hashed, read or read-write) and the responses kept for idempotency keys

Revision ID: 0029_api_keys
Revises: 0028_integrations
Create Date: 2026-11-30 06:26:14.248734
"""
from alembic import op
import sqlalchemy as sa
import portal.types


revision = '0029_api_keys'
down_revision = '0028_integrations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.Enum('read', 'read-write', name='apiscope', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_api_keys_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_api_keys_created_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_agency_id'), ['agency_id'], unique=False)

    op.create_table('api_idempotency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_api_idempotency_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_api_idempotency_api_key_id_api_keys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency')),
    sa.UniqueConstraint('api_key_id', 'key', name=op.f('uq_api_idempotency_api_key_id_key'))
    )
    with op.batch_alter_table('api_idempotency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_idempotency_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_idempotency_created_at'), ['created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('api_idempotency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_idempotency_created_at'))
        batch_op.drop_index(batch_op.f('ix_api_idempotency_agency_id'))

    op.drop_table('api_idempotency')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_agency_id'))

    op.drop_table('api_keys')
