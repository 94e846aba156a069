"""Every model, imported in one place so the metadata (and Alembic) sees them all."""

from portal.agencies.models import Agency, LoginAttempt, StaffRole, StaffSession, StaffUser
from portal.bookings.models import (
    Booking,
    BookingStatus,
    Channel,
    Lease,
    LeaseStatus,
    PaymentType,
)
from portal.db import Base
from portal.messages.models import Message, MessageStatus
from portal.people.models import Person, PortalAccount, PortalRole
from portal.properties.models import Property, Unit
from portal.tags import Tag

__all__ = [
    "Agency", "Base", "Booking", "BookingStatus", "Channel", "Lease", "LeaseStatus",
    "LoginAttempt", "Message", "MessageStatus", "PaymentType", "Person", "PortalAccount",
    "PortalRole", "Property", "StaffRole", "StaffSession", "StaffUser", "Tag", "Unit",
]
