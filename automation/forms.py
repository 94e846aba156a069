"""Forms for solutions and mail templates; the business rules live in automation.operations."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    FormField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import Length, Optional

from automation.catalogue import OTA_COLLECT, Kind
from automation.models import Anchor, MailTemplate, OffsetUnit, Solution
from automation.queries import ANCHOR_LABELS
from automation.timing import MAX_OFFSET_DAYS
from portal.bookings.models import Channel, PaymentType
from portal.fields import (
    ONE_LINE,
    DateField,
    Form,
    IntegerField,
    MultiCheckboxField,
    RadioField,
    SelectField,
    bind_without_nul,
    options,
)

MAX_NOTIFICATIONS = 10
WITH_BOOKING_FIELDS = ("booking", "review")  # kinds about bookings filter on payment type and channel too


class NotificationForm(PlainForm):
    """One notification block (its CSRF token is the parent form's)."""

    class Meta:
        bind_field = bind_without_nul

    sender = StringField("From", validators=[Optional(), Length(max=320), ONE_LINE],
                         description="Leave empty to send from the agency's address.")
    # Choices are checked by the operation, which explains what is allowed.
    roles = MultiCheckboxField("To (by role)", validate_choice=False)
    to = StringField("Also to these addresses", validators=[Optional(), Length(max=2000)],
                     description="Comma-separated e-mail addresses.")
    cc = StringField("CC", validators=[Optional(), Length(max=2000)])
    bcc = StringField("BCC", validators=[Optional(), Length(max=2000)])
    template_id = SelectField("Template", validate_choice=True)


class SolutionForm(FlaskForm):
    """Step 3 of a new solution, and its edit page."""

    class Meta:
        bind_field = bind_without_nul

    name = StringField("Name of the solution", validators=[Length(max=120), ONE_LINE],
                       description="Easy to recognise: to whom, when, what.")
    statuses = MultiCheckboxField("Booking status", validate_choice=False)
    payment_types = MultiCheckboxField("Payment type", validate_choice=False)
    channels = MultiCheckboxField("Channel", validate_choice=False)
    tags = StringField("Tags", validators=[Optional(), Length(max=500)],
                       description="Comma-separated. Only objects with one of these tags (on the booking, unit, "
                                   "owner or guest) qualify; tags include, never exclude.")
    anchor = SelectField("Timing")
    # The field keeps the number small; the operation checks the offset in days and explains the limit.
    offset = IntegerField("Days, months or hours", required=False, min=-100 * MAX_OFFSET_DAYS,
                          max=100 * MAX_OFFSET_DAYS,
                          default=0,
                          description="Negative = before, positive = after, 0 = that day.")
    offset_unit = SelectField("Unit", choices=options([(OffsetUnit.DAYS.value, "days"),
                                                       (OffsetUnit.MONTHS.value, "months (30 days)"),
                                                       (OffsetUnit.HOURS.value, "hours")]))
    at_time = StringField("At (local time)", validators=[Optional(), Length(max=8)], default="09:00",
                          render_kw={"type": "time", "placeholder": "HH:MM"})
    notifications = FieldList(FormField(NotificationForm), min_entries=1, max_entries=MAX_NOTIFICATIONS)
    validity = RadioField("Valid for", choices=options([("new", "Only those created on or after"),
                                                         ("existing", "Existing ones too")]), default="new")
    valid_from = DateField("From day", validators=[Optional()])
    minutes_saved = IntegerField("Minutes saved per task", required=False, min=0, max=600,
                                 description="What doing this by hand would take; the dashboard adds it up.")


class TemplateForm(Form):
    """A mail template's name and its three parts."""

    name = StringField("Name", validators=[Length(max=120), ONE_LINE])
    subject = StringField("Subject", validators=[Length(max=500), ONE_LINE])
    html_body = TextAreaField("HTML body", validators=[Optional(), Length(max=100_000)],
                              description="Optional. Shown by mail readers that display HTML.",
                              render_kw={"rows": 14, "spellcheck": "false"})
    text_body = TextAreaField("Text body", validators=[Length(max=100_000)],
                              description="Required: what mail readers without HTML show.",
                              render_kw={"rows": 10})


def _label(value: str) -> str:
    return value.replace("-", " ").capitalize()


def usable_templates(kind: Kind, templates: list[MailTemplate]) -> list[MailTemplate]:
    """The templates whose merge fields and links exist for the kind's objects."""
    from automation.rendering import subjects_for

    return [t for t in templates if kind.subject.name in subjects_for(t.subject, t.html_body, t.text_body)]


def default_template(kind: Kind, templates: list[MailTemplate]) -> str:
    """The id (as the form has it) a new notification of this kind starts with: its own default
    template, else the first it can use, else none."""
    from automation.starter import template_name

    usable = usable_templates(kind, templates)
    own = next((t for t in usable if t.name == template_name(kind.name)), None)
    chosen = own or (usable[0] if usable else None)
    return str(chosen.id) if chosen else ""


def prepare(form: SolutionForm, kind: Kind, templates: list[MailTemplate]) -> None:
    """Set the choices that depend on the kind and on the agency's templates (those it can use)."""
    form.statuses.choices = options((s, _label(s)) for s in kind.statuses)
    if kind.default_statuses:  # the operation falls back to these rather than to "any status"
        form.statuses.description = f"None ticked: {', '.join(_label(s).lower() for s in kind.default_statuses)} only."
    form.payment_types.choices = options((p.value, _label(p.value)) for p in PaymentType)
    never = kind.never_channels or frozenset()
    form.channels.choices = options((c.value, c.value) for c in Channel if c.value not in never)
    form.anchor.choices = options(
        (a.value, ANCHOR_LABELS[a] if a == Anchor.IMMEDIATELY else f"Relative to {ANCHOR_LABELS[a]}")
        for a in kind.anchors)
    template_choices = options([("", "— Choose a template —"),
                                *[(str(t.id), t.name) for t in usable_templates(kind, templates)]])
    for entry in form.notifications:
        entry.form.roles.choices = options((r, r.capitalize()) for r in kind.subject.roles)
        entry.form.template_id.choices = template_choices
    form.channels.description = (f"Never for {', '.join(sorted(never))}: those channels collect the money."
                                 if never == OTA_COLLECT else "")


def defaults(kind: Kind, templates: list[MailTemplate], today: Any, blocks: int = 1) -> dict[str, Any]:
    """The values a new solution of this kind starts with."""
    first = default_template(kind, templates)
    notifications = [{"roles": list(kind.default_roles), "template_id": first}]
    notifications += [{"roles": [], "template_id": first} for _ in range(blocks - 1)]
    return {"name": kind.label, "statuses": list(kind.default_statuses), "anchor": kind.anchors[0].value,
            "offset": 0, "offset_unit": OffsetUnit.DAYS.value, "at_time": "09:00", "validity": "new",
            "valid_from": today, "minutes_saved": kind.default_minutes, "notifications": notifications}


def values(solution: Solution, zone: ZoneInfo) -> dict[str, Any]:
    """A saved solution's values for its edit form."""
    conditions = solution.conditions or {}
    return {
        "name": solution.name, "statuses": conditions.get("statuses", []),
        "payment_types": conditions.get("payment_types", []), "channels": conditions.get("channels", []),
        "tags": ", ".join(conditions.get("tags", [])), "anchor": solution.anchor.value, "offset": solution.offset,
        "offset_unit": solution.offset_unit.value,
        "at_time": f"{solution.at_time:%H:%M}" if solution.at_time else "09:00",
        "validity": "existing" if solution.include_existing else "new",
        "valid_from": solution.valid_from.astimezone(zone).date(), "minutes_saved": solution.minutes_saved,
        "notifications": [{"sender": n.sender or "", "roles": list(n.roles), "to": ", ".join(n.to),
                           "cc": ", ".join(n.cc), "bcc": ", ".join(n.bcc), "template_id": str(n.template_id)}
                          for n in solution.notifications],
    }


def solution_data(form: SolutionForm, kind: Kind, zone: ZoneInfo, solution: Solution | None) -> dict[str, Any]:
    """The operation's data dict from a validated form."""
    from portal.types import parse_id

    data: dict[str, Any] = {
        "kind": kind.name, "name": form.name.data or "", "anchor": form.anchor.data,
        "offset": form.offset.data or 0, "offset_unit": form.offset_unit.data,
        "at_time": form.at_time.data or "", "tags": form.tags.data or "",
        "include_existing": form.validity.data == "existing", "minutes_saved": form.minutes_saved.data,
        "notifications": [{"sender": e.form.sender.data or "", "roles": e.form.roles.data or [],
                           "to": e.form.to.data or "", "cc": e.form.cc.data or "", "bcc": e.form.bcc.data or "",
                           "template_id": parse_id(e.form.template_id.data) or 0}
                          for e in form.notifications],
    }
    if kind.statuses:
        data["statuses"] = form.statuses.data or []
    if kind.subject.name in WITH_BOOKING_FIELDS:
        data["payment_types"] = form.payment_types.data or []
        data["channels"] = form.channels.data or []
    day = form.valid_from.data
    unchanged = solution is not None and day == solution.valid_from.astimezone(zone).date()
    if day is not None and not unchanged:  # the day starts at the agency's local midnight
        data["valid_from"] = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    return data

