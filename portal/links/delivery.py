"""E-mailing a link: the mail templates get the link's placeholder (the URL only the SMTP copy
carries) and the `link()` merge field; a link sent by staff is audited."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, render_template, request

from portal import agencies, db, links, mail
from portal.agencies.models import StaffAudit
from portal.messages.models import Message
from portal.people.models import Person

# Links addressed "Name <address>" however they are sent (first time, resent, renewed): the sign-in and the
# owner account's ones, as the account's other mails (receipts, statements) are.
NAMED_ACTIONS = frozenset({"login", "send_money"})


def send_link(action: str, obj: Any, person: Person, created_by: int | None = None, *, named: bool | None = None
              ) -> Message:
    """Issue a link for `person` and e-mail it (after the commit, like all mail) (flushes); `named` addresses
    it "Name <address>", as automation's mails are (None: as NAMED_ACTIONS says)."""
    if named is None:
        named = action in NAMED_ACTIONS
    if not person.email:
        raise ValueError(f"{person.name} has no e-mail address")
    spec = links.ACTIONS[action]
    link = links.create(action, obj, person, created_by=created_by)
    context = {
        "person": person,
        "obj": obj,
        "url": links.placeholder(link),
        "code": links.attach_code(link) if spec.with_code else None,
        "expires_at": link.expires_at,
        "agency": agencies.get(person.agency_id),
        "link": links.link_function(person, created_by),
    }
    if created_by is not None:  # staff acting towards a person's account: the agency can account for it
        db.session.add(StaffAudit(
            agency_id=person.agency_id, user_id=created_by, action=f"send-link-{action}",
            detail=f"{links.LINK_NAMES.get(action, action)} for {type(obj).__name__.lower()} #{obj.id} "
                   f"to person #{person.id}",
            ip=request.remote_addr if has_request_context() else None,
        ))
    return mail.send(
        to=mail.address(person.name, person.email) if named else person.email,
        subject=spec.subject(obj),
        text=render_template(f"mail/{spec.mail}.txt", **context),
        html=render_template(f"mail/{spec.mail}.html", **context),
        person=person,
        about=obj,
    )
