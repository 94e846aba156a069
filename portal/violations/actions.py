"""Link action on violation notices (L4): the occupant acknowledges the notice or disputes it with a
comment, through portal.violations.operations with source "link". The link dies when the notice is
answered, resolved or withdrawn elsewhere (Violation.link_state: status and version)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import joinedload, selectinload

from portal import access, agencies, links
from portal.bookings import occupancy
from portal.links.models import ActionLink
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import Unit
from portal.violations import operations as ops
from portal.violations.models import Violation, ViolationStatus


def may_respond(violation: Violation, person: Person) -> access.Decision:
    """The authorization engine's say on answering this notice in the occupant's portal."""
    return occupancy.occupant_may(violation, person, "violations.respond")


def context(violation: Violation) -> dict[str, Any]:
    """What the link page shows besides the notice: the photos' count and where to see them."""
    return {"photos": len(violation.photos), "zone_name": agencies.get(violation.agency_id).timezone,
            "portal_page": occupancy.portal_page(violation, f"violations/{violation.id}")}


def describe(violation: Violation) -> str:
    return f"Violation notice: {violation.title}"


def perform(violation: Violation, link: ActionLink, form: Mapping[str, str]) -> str:
    """Acknowledge, or dispute with a comment (required)."""
    choice = form.get("choice")
    try:
        ops.respond(violation, link.person, choice, form.get("comment"), source=ops.LINK)
    except FieldError as error:
        raise links.ActionRefused(error.message, 400 if error.field in ("choice", "comment") and
                                  violation.status == ViolationStatus.OPEN else 422) from None
    if choice == "acknowledge":
        return "Thank you. You acknowledged the notice; your property manager has been told."
    return "Thank you. You disputed the notice; your property manager will look at your comment and reply."


def settled(violation: Violation) -> str | None:
    """Why nothing is left to do through the link, if so."""
    if violation.status == ViolationStatus.OPEN:
        return None
    if violation.status == ViolationStatus.WITHDRAWN:
        return "This notice was withdrawn by your property manager. Nothing more needs doing."
    if violation.status == ViolationStatus.RESOLVED:
        return "This notice has been resolved. Nothing more needs doing."
    return f"This notice was already answered ({violation.status.value}). Nothing more needs doing."


VIOLATION_RESPONSE = links.Action(
    name="violation_response",
    model=Violation,
    describe=describe,
    perform=perform,
    lifetime=timedelta(days=30),
    button="Send my answer",
    belongs_to=lambda violation, person: violation.person_id == person.id,
    subject=lambda violation: f"Violation notice: {violation.title}",
    mail="violation_notice",
    template="links/violation_response.html",
    actionable=lambda violation: violation.status == ViolationStatus.OPEN,
    authorize=may_respond,
    load=(joinedload(Violation.unit).joinedload(Unit.property), selectinload(Violation.photos)),
    context=context,
    settled=settled,
)
