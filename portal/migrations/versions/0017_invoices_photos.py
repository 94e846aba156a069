"""work-order files (photos, PDFs: the row here, the bytes under UPLOAD_DIR), vendor invoices and their lines

Revision ID: 0017_invoices_photos
Revises: 0016_workorder_lifecycle
"""
from alembic import op
import sqlalchemy as sa
import portal.types


revision = '0017_invoices_photos'
down_revision = '0016_workorder_lifecycle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('work_order_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('has_thumbnail', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_work_order_files_size_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_work_order_files_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_work_order_files_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_work_order_files_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_work_order_files_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_files')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_work_order_files_stored_name'))
    )
    with op.batch_alter_table('work_order_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_files_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_files_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tax_rate', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('subtotal', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('tax', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('total', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'awaiting-owner-approval', 'approved', 'denied', 'paid', name='invoicestatus', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('needs_owner_approval', sa.Boolean(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_person_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('denial_reason', sa.String(length=1000), nullable=True),
    sa.Column('paid_amount', portal.types.Money(precision=18, scale=4), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('payment_reference', sa.String(length=120), nullable=True),
    sa.Column('paid_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('paid_amount IS NULL OR paid_amount > 0', name=op.f('ck_invoices_paid_amount_positive')),
    sa.CheckConstraint('subtotal >= 0 AND tax >= 0 AND total >= 0', name=op.f('ck_invoices_amounts_not_negative')),
    sa.CheckConstraint('tax_rate >= 0', name=op.f('ck_invoices_tax_rate_not_negative')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_invoices_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['attachment_id'], ['work_order_files.id'], name=op.f('fk_invoices_attachment_id_work_order_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_person_id'], ['people.id'], name=op.f('fk_invoices_decided_by_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_staff_id'], ['staff_users.id'], name=op.f('fk_invoices_decided_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['paid_by_staff_id'], ['staff_users.id'], name=op.f('fk_invoices_paid_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_id'], ['people.id'], name=op.f('fk_invoices_vendor_id_people'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_invoices_work_order_id_work_orders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('agency_id', 'vendor_id', 'number', name=op.f('uq_invoices_agency_id_vendor_id_number'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_status'), ['status'], unique=False)
        batch_op.create_index('ix_invoices_status_work_order', ['status', 'work_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_vendor_id'), ['vendor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('quantity', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('amount', portal.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_invoice_lines_quantity_positive')),
    sa.CheckConstraint('unit_price > 0', name=op.f('ck_invoice_lines_unit_price_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_invoice_lines_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines'))
    )
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_lines_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_lines_invoice_id'), ['invoice_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_lines_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_lines_agency_id'))

    op.drop_table('invoice_lines')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_invoices_vendor_id'))
        batch_op.drop_index('ix_invoices_status_work_order')
        batch_op.drop_index(batch_op.f('ix_invoices_status'))
        batch_op.drop_index(batch_op.f('ix_invoices_agency_id'))

    op.drop_table('invoices')
    with op.batch_alter_table('work_order_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_files_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_work_order_files_agency_id'))

    op.drop_table('work_order_files')
