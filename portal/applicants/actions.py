"""Link action on applicants (L4): an owner of the unit approves or declines an applicant waiting for them,
through portal.applicants.operations with "link" as the way; the link dies when the applicant moves on
(Applicant.link_state)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import joinedload

from portal import access, links
from portal.applicants import operations as ops
from portal.applicants.models import Applicant, ApplicantStatus, DecidedVia
from portal.links.models import ActionLink
from portal.operations import FieldError
from portal.people.models import PortalRole
from portal.properties.models import Unit

LINK = DecidedVia.LINK.value
WAITING = ApplicantStatus.AWAITING_OWNER


def describe(applicant: Applicant) -> str:
    return f"Approve the applicant: {applicant.name}"


def context(applicant: Applicant) -> dict[str, Any]:
    return {"where": str(applicant.unit)}


def perform(applicant: Applicant, link: ActionLink, form: Mapping[str, str]) -> str:
    """Approve, or decline with the owner's (optional) reason."""
    actor = ops.Actor.owner(link.person)
    choice = form.get("choice")
    try:
        if choice == "approve":
            ops.approve(applicant, actor, via=LINK, reason=form.get("reason"))
            return f"Thank you. {applicant.name} is approved for {applicant.unit}; the agency takes it from here."
        if choice == "decline":
            ops.decline(applicant, actor, via=LINK, reason=form.get("reason"))
            return f"Thank you. {applicant.name} is declined; the agency will let them know."
    except FieldError as error:
        raise links.ActionRefused(error.message) from None
    raise links.ActionRefused("Choose whether to approve or to decline the applicant.", 400)


def settled(applicant: Applicant) -> str | None:
    """Why nothing is left to do through the link (decided, withdrawn...), if so."""
    if applicant.status == WAITING:
        return None
    how = {"portal": " in the owner portal", "link": " from an e-mail link", "back_office": " by the agency"}
    via = how.get(applicant.decided_via or "", "") if applicant.status in (ApplicantStatus.APPROVED,
                                                                           ApplicantStatus.DECLINED) else ""
    return (f"This application is now {applicant.status.value.replace('-', ' ')}{via}. "
            "Nothing more needs doing through this link.")


APPLICANT_APPROVAL = links.Action(
    name="applicant_approval",
    model=Applicant,
    describe=describe,
    perform=perform,
    lifetime=timedelta(days=14),
    button="Approve",
    belongs_to=lambda applicant, person: ops.owns(person, applicant),
    subject=lambda applicant: f"An applicant for {applicant.unit.name} waits for you: {applicant.name}",
    mail="applicant_approval",
    template="links/applicant_approval.html",
    actionable=lambda applicant: applicant.status == WAITING,
    authorize=lambda applicant, person: access.can(person, PortalRole.OWNER, "owner.applicants.approve", applicant),
    load=(joinedload(Applicant.unit).joinedload(Unit.property),),
    context=context,
    settled=settled,
)
