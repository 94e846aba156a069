"""Every model, imported in one place so the metadata (and Alembic) sees them all."""

from portal.access.models import ItemRule, PersonOverride, PortalDefault, ShareRule, TimeWindow
from portal.accounting.models import (
    Contribution,
    ContributionStatus,
    LineKind,
    OwnerEntry,
    Statement,
    StatementLine,
    StatementStatus,
)
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
from portal.api.models import ApiKey, ApiScope, IdempotentRequest
from portal.applicants.models import Applicant, ApplicantEvent
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
from portal.insurance.models import InsuranceQuote, QuoteStatus
from portal.integrations.models import (
    BlockedDates,
    BookingSource,
    CalendarExport,
    Feed,
    Integration,
    IntegrationKind,
    RunStatus,
    SyncError,
    SyncRun,
    WhenMissing,
)
from portal.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from portal.links.models import ActionLink, LinkEvent
from portal.messages.models import Message, MessageStatus
from portal.money.models import Charge, ChargeKind, ChargeStatus, Mandate, Payment, Refund
from portal.people.models import Person, PortalAccount, PortalRole
from portal.properties.models import Property, Unit
from portal.surveys.models import Answer, Invitation, Question, QuestionKind, Response, Survey, SurveyTrigger
from portal.tags import Tag
from portal.violations.models import Violation, ViolationEvent, ViolationPhoto, ViolationStatus
from portal.workorders.models import Visit, WorkKind, WorkOrder, WorkOrderEvent, WorkStatus

__all__ = [
    "ActionLink",
    "Agency",
    "Answer",
    "ApiKey",
    "ApiScope",
    "Applicant",
    "ApplicantEvent",
    "Appointment",
    "AppointmentStatus",
    "Base",
    "BlockedDates",
    "Booking",
    "BookingSource",
    "BookingStatus",
    "CalendarExport",
    "Channel",
    "Charge",
    "ChargeKind",
    "ChargeStatus",
    "Contribution",
    "ContributionStatus",
    "Document",
    "DocumentKind",
    "Feed",
    "IdempotentRequest",
    "InsuranceQuote",
    "Integration",
    "IntegrationKind",
    "Invitation",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "ItemRule",
    "Lease",
    "LeaseStatus",
    "LineKind",
    "LinkEvent",
    "LoginAttempt",
    "LoginSession",
    "Mandate",
    "Message",
    "MessageStatus",
    "OwnerEntry",
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
    "QuoteStatus",
    "Refund",
    "Response",
    "Review",
    "RunStatus",
    "ShareRule",
    "Signature",
    "StaffAudit",
    "StaffRole",
    "StaffSession",
    "StaffUser",
    "Statement",
    "StatementLine",
    "StatementStatus",
    "Survey",
    "SurveyTrigger",
    "SyncError",
    "SyncRun",
    "Tag",
    "TimeWindow",
    "Unit",
    "Violation",
    "ViolationEvent",
    "ViolationPhoto",
    "ViolationStatus",
    "Visit",
    "WhenMissing",
    "WorkKind",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderFile",
    "WorkStatus",
]
