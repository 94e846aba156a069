"""charge slots: one open balance charge per booking, each option once

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 12:00:00
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OPTION = "slot LIKE 'option:%' AND status <> 'cancelled'"
BALANCE = "slot = 'balance' AND status = 'open'"


def upgrade() -> None:
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot', sa.String(length=60), nullable=True))
    _give_every_balance_a_charge()
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.create_index('uq_charges_booking_option', ['booking_id', 'slot'], unique=True,
                              postgresql_where=sa.text(OPTION), sqlite_where=sa.text(OPTION))
        batch_op.create_index('uq_charges_booking_balance', ['booking_id'], unique=True,
                              postgresql_where=sa.text(BALANCE), sqlite_where=sa.text(BALANCE))


def _give_every_balance_a_charge() -> None:
    """Bookings that owe something get an open charge for it (an earlier 'Balance of …' fee is adopted)."""
    conn = op.get_bind()
    charges = sa.table(
        'charges', sa.column('id', sa.Integer), sa.column('agency_id', sa.Integer), sa.column('person_id', sa.Integer),
        sa.column('lease_id', sa.Integer), sa.column('booking_id', sa.Integer), sa.column('kind', sa.String),
        sa.column('description', sa.String), sa.column('subject', sa.String), sa.column('amount', portal.types.Money()),
        sa.column('currency', sa.String), sa.column('due_date', sa.Date), sa.column('status', sa.String),
        sa.column('version', sa.Integer), sa.column('created_at', portal.types.UTCDateTime()),
        sa.column('slot', sa.String))
    adopted = conn.execute(
        sa.select(sa.func.min(charges.c.id)).where(
            charges.c.booking_id.is_not(None), charges.c.status == 'open', charges.c.kind == 'fee',
            charges.c.description.like('Balance of %'))
        .group_by(charges.c.booking_id)
    ).scalars().all()
    if adopted:
        conn.execute(sa.update(charges).where(charges.c.id.in_(adopted)).values(slot='balance'))
    bookings = sa.table('bookings', sa.column('id', sa.Integer), sa.column('agency_id', sa.Integer),
                        sa.column('guest_id', sa.Integer), sa.column('unit_id', sa.Integer),
                        sa.column('reference', sa.String), sa.column('arrival', sa.Date),
                        sa.column('status', sa.String), sa.column('amount_due', portal.types.Money()),
                        sa.column('amount_paid', portal.types.Money()))
    agencies = sa.table('agencies', sa.column('id', sa.Integer), sa.column('currency', sa.String))
    units = sa.table('units', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('property_id', sa.Integer))
    properties = sa.table('properties', sa.column('id', sa.Integer), sa.column('name', sa.String))
    has_balance = sa.exists().where(charges.c.booking_id == bookings.c.id, charges.c.slot == 'balance')
    rows = conn.execute(
        sa.select(bookings.c.id, bookings.c.agency_id, bookings.c.guest_id, bookings.c.reference,
                  bookings.c.arrival, bookings.c.amount_due, bookings.c.amount_paid, agencies.c.currency,
                  properties.c.name, units.c.name)
        .join(agencies, agencies.c.id == bookings.c.agency_id).join(units, units.c.id == bookings.c.unit_id)
        .join(properties, properties.c.id == units.c.property_id)
        .where(bookings.c.status != 'cancelled', bookings.c.amount_due > bookings.c.amount_paid, ~has_balance)
    ).all()
    now = datetime.now(UTC)
    for booking_id, agency_id, guest_id, reference, arrival, due, paid, currency, prop, unit in rows:
        conn.execute(sa.insert(charges).values(
            agency_id=agency_id, person_id=guest_id, lease_id=None, booking_id=booking_id, kind='fee',
            description=f"Balance of booking {reference}", subject=f"booking {reference} ({prop} · {unit})",
            amount=due - paid, currency=currency, due_date=arrival, status='open', version=1, created_at=now,
            slot='balance'))


def downgrade() -> None:
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_index('uq_charges_booking_balance', postgresql_where=sa.text(BALANCE),
                            sqlite_where=sa.text(BALANCE))
        batch_op.drop_index('uq_charges_booking_option', postgresql_where=sa.text(OPTION),
                            sqlite_where=sa.text(OPTION))
        batch_op.drop_column('slot')
