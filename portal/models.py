"""Every model, imported in one place so the metadata (and Alembic) sees them all."""

from portal.access.models import ItemRule, PersonOverride, PortalDefault, ShareRule, TimeWindow
from portal.agencies.models import (
    Agency,
    LoginAttempt,
    LoginSession,
    PortalSession,
    StaffAudit,
    StaffRole,
    StaffSession,
    StaffUser,
)
from portal.appointments.models import Appointment, AppointmentStatus
from portal.bookings.models import (
    Booking,
    BookingStatus,
    Channel,
    Lease,
    LeaseStatus,
    PaymentType,
    Review,
)
from portal.db import Base
from portal.documents.models import Document, DocumentKind, Signature
from portal.files.models import WorkOrderFile
from portal.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from portal.links.models import ActionLink, LinkEvent
from portal.messages.models import Message, MessageStatus
from portal.money.models import Charge, ChargeKind, ChargeStatus, Mandate, Payment
from portal.people.models import Person, PortalAccount, PortalRole
from portal.properties.models import Property, Unit
from portal.surveys.models import Answer, Invitation, Question, QuestionKind, Response, Survey, SurveyTrigger
from portal.tags import Tag
from portal.workorders.models import Visit, WorkKind, WorkOrder, WorkOrderEvent, WorkStatus

__all__ = [
    "ActionLink",
    "Agency",
    "Answer",
    "Appointment",
    "AppointmentStatus",
    "Base",
    "Booking",
    "BookingStatus",
    "Channel",
    "Charge",
    "ChargeKind",
    "ChargeStatus",
    "Document",
    "DocumentKind",
    "Invitation",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "ItemRule",
    "Lease",
    "LeaseStatus",
    "LinkEvent",
    "LoginAttempt",
    "LoginSession",
    "Mandate",
    "Message",
    "MessageStatus",
    "Payment",
    "PaymentType",
    "Person",
    "PersonOverride",
    "PortalAccount",
    "PortalDefault",
    "PortalRole",
    "PortalSession",
    "Property",
    "Question",
    "QuestionKind",
    "Response",
    "Review",
    "ShareRule",
    "Signature",
    "StaffAudit",
    "StaffRole",
    "StaffSession",
    "StaffUser",
    "Survey",
    "SurveyTrigger",
    "Tag",
    "TimeWindow",
    "Unit",
    "Visit",
    "WorkKind",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderFile",
    "WorkStatus",
]
