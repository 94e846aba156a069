"""Link action on surveys (L4): the person invited answers the survey's questions. GET shows the form and
changes nothing; the POST stores the invitation's one response (portal.surveys.operations.respond). Answers
that cannot be stored (a required rating missing, an option not listed) show the form again with a message
beside each question, and leave the link usable; once answered, every link of the invitation is over."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import joinedload

from portal import agencies, dates, links
from portal.links.models import ActionLink
from portal.operations import FieldError
from portal.surveys import operations as ops
from portal.surveys.models import Invitation, Survey


def perform(invitation: Invitation, link: ActionLink, form: Mapping[str, str]) -> str:
    """Store the answers; a refusal keeps the link for another try."""
    try:
        ops.respond(invitation, form)
    except ops.Unanswered as problem:
        count = len(problem.errors)
        raise links.ActionRefused(
            f"Please look at the question{'s' if count > 1 else ''} marked below: nothing was sent yet.",
            fields=problem.errors) from None
    except FieldError as error:
        raise links.ActionRefused(error.message, 409) from None
    return f"Thank you for answering “{invitation.survey.title}”. Your answers were received."


def settled(invitation: Invitation) -> str | None:
    """Why nothing is left to do through a link of this invitation, if so."""
    if invitation.answered_at is not None:
        agency = agencies.get(invitation.agency_id)
        when = dates.format_moment(invitation.answered_at, agency.babel_locale, agency.zone)
        return (f"You already answered “{invitation.survey.title}” on {when}. Thank you: one answer per "
                "invitation is kept, so nothing more can be sent through this link.")
    if invitation.survey.closed:
        return f"“{invitation.survey.title}” is closed and takes no more answers. Thank you all the same."
    return None


def context(invitation: Invitation) -> dict[str, Any]:
    return {"survey": invitation.survey, "questions": invitation.survey.questions, "about": invitation.about}


SURVEY_RESPONSE = links.Action(
    name="survey",
    model=Invitation,
    describe=lambda invitation: invitation.survey.title,
    perform=perform,
    lifetime=timedelta(days=30),
    button="Send my answers",
    belongs_to=lambda invitation, person: invitation.person_id == person.id,
    subject=lambda invitation: f"A few questions from us: {invitation.survey.title}",
    mail="survey_invitation",
    template="links/survey.html",
    actionable=lambda invitation: invitation.answered_at is None and not invitation.survey.closed,
    load=(joinedload(Invitation.survey).selectinload(Survey.questions),),
    context=context,
    settled=settled,
)
