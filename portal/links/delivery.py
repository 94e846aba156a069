"""E-mailing a link: the mail templates get the link's URL and the `link()` merge field."""

from __future__ import annotations

from typing import Any

from flask import render_template

from portal import agencies, links, mail
from portal.messages.models import Message
from portal.people.models import Person


def send_link(action: str, obj: Any, person: Person, created_by: int | None = None) -> Message:
    """Issue a link for `person` and e-mail it (after the commit, like all mail) (flushes)."""
    if not person.email:
        raise ValueError(f"{person.name} has no e-mail address")
    spec = links.ACTIONS[action]
    link = links.create(action, obj, person, created_by=created_by)
    context = {
        "person": person,
        "obj": obj,
        "url": links.url(link),
        "code": links.attach_code(link) if spec.with_code else None,
        "expires_at": link.expires_at,
        "agency": agencies.get(person.agency_id),
        "link": links.link_function(person, created_by),
    }
    return mail.send(
        to=person.email,
        subject=spec.subject(obj),
        text=render_template(f"mail/{spec.mail}.txt", **context),
        html=render_template(f"mail/{spec.mail}.html", **context),
        person=person,
        about=obj,
    )
