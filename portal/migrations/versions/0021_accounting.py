"""owner accounting: refunds, unit shares, owner fee terms, owner entries, statements

Revision ID: 0021_accounting
Revises: 0020_invoice_threshold
"""
from alembic import op
import sqlalchemy as sa
import portal.types


revision = '0021_accounting'
down_revision = '0020_invoice_threshold'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('opening', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('closing', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('status', sa.Enum('draft', 'sent', name='statementstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('generated_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_statements_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['people.id'], name=op.f('fk_statements_owner_id_people'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
    sa.UniqueConstraint('owner_id', 'currency', 'month', name=op.f('uq_statements_owner_id_currency_month'))
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statements_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statements_owner_id'), ['owner_id'], unique=False)

    op.create_table('owner_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('payout', 'contribution', 'correction', name='entrykind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('amount', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('memo', sa.String(length=300), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind = 'correction' OR amount > 0", name=op.f('ck_owner_entries_amount_positive_unless_correction')),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_owner_entries_amount_not_zero')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_owner_entries_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_owner_entries_created_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['people.id'], name=op.f('fk_owner_entries_owner_id_people'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_owner_entries_unit_id_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_entries'))
    )
    with op.batch_alter_table('owner_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_entries_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_owner_entries_owner_date', ['owner_id', 'entry_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_owner_entries_unit_id'), ['unit_id'], unique=False)

    op.create_table('statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('line_date', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('unit_name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('income', 'refund', 'expense', 'fee', 'contribution', 'payout', 'correction', name='linekind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('description', sa.String(length=400), nullable=False),
    sa.Column('amount', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('whole', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('source_type', sa.String(length=30), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_statement_lines_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_lines_statement_id_statements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_statement_lines_unit_id_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines'))
    )
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_lines_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_lines_statement_id'), ['statement_id'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('amount', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_refunds_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_refunds_created_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_refunds_payment_id_payments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refunds_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_refunds_payment_id'), ['payment_id'], unique=False)

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_percent', portal.types.Money(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column('fee_fixed', portal.types.Money(precision=18, scale=4), nullable=True))

    with op.batch_alter_table('unit_owners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share', portal.types.Money(precision=18, scale=4), nullable=True))



def downgrade() -> None:
    # Not a batch: on SQLite that rebuilds the table, and with foreign keys on that would cascade to every
    # row naming a person (see 0016). Both databases drop a plain column in place.
    op.execute("ALTER TABLE unit_owners DROP COLUMN share")
    op.execute("ALTER TABLE people DROP COLUMN fee_fixed")
    op.execute("ALTER TABLE people DROP COLUMN fee_percent")

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_payment_id'))
        batch_op.drop_index(batch_op.f('ix_refunds_created_at'))
        batch_op.drop_index(batch_op.f('ix_refunds_agency_id'))

    op.drop_table('refunds')
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_lines_statement_id'))
        batch_op.drop_index(batch_op.f('ix_statement_lines_agency_id'))

    op.drop_table('statement_lines')
    with op.batch_alter_table('owner_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_entries_unit_id'))
        batch_op.drop_index('ix_owner_entries_owner_date')
        batch_op.drop_index(batch_op.f('ix_owner_entries_agency_id'))

    op.drop_table('owner_entries')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statements_owner_id'))
        batch_op.drop_index(batch_op.f('ix_statements_agency_id'))

    op.drop_table('statements')
