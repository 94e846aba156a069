"""The messages page every portal shares: the e-mails the person was sent."""

from __future__ import annotations

from portal import access, viewas
from portal.messages.queries import my_messages
from portal.people.models import Person
from portal.signin import current_person
from portals.common.signin import portal_role

TEMPLATE = "common/messages.html"


def context(person: Person) -> dict:
    """What the messages page shows (for the portal and for *view as*)."""
    return {"person": person, "messages": my_messages(person)}


def page():
    """The person's messages, newest first (when their portal lets them see messages)."""
    role, person = portal_role(), current_person()
    access.require(person, role, f"{role.value}.messages.view")
    return viewas.render(role, "messages", person)
