"""The documents pages every portal that has documents shares: list, read, e-sign."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from portal import access, db
from portal.documents.models import Document
from portal.documents.operations import sign, signature_of
from portal.documents.queries import my_documents
from portal.fields import failed
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.signin import current_person
from portals.common.forms import SignForm
from portals.common.signin import portal_role

TEMPLATE = "common/documents.html"


def _get(doc_id: int, role: PortalRole) -> Document:
    document = db.session.get(Document, doc_id)
    if document is None:
        abort(404)
    access.require(current_person(), role, f"{role.value}.documents.view", document)
    return document


def context(person: Person, role: PortalRole) -> dict:
    """What `role`'s documents page shows the person (for the portal and for *view as*)."""
    return {"person": person, "documents": my_documents(person, role), "portal": role.value}


def documents():
    """The person's documents, newest first."""
    role = portal_role()
    return render_template(TEMPLATE, **context(current_person(), role))


def document(doc_id: int):
    """One document, with its sign form when it waits for the person's signature."""
    role = portal_role()
    person, doc = current_person(), _get(doc_id, role)
    decision = access.can(person, role, f"{role.value}.documents.sign", doc)
    can_sign = doc.requires_signature and doc.person_id == person.id and decision.allowed
    return render_template("common/document.html", person=person, document=doc, portal=role.value,
                           signature=signature_of(doc, person), can_sign=can_sign, sign_decision=decision,
                           error=None)


def sign_document(doc_id: int):
    """E-sign the document with the typed name."""
    role = portal_role()
    person, doc = current_person(), _get(doc_id, role)
    access.require(person, role, f"{role.value}.documents.sign", doc)
    form = SignForm()
    try:
        sign(doc, person, form.typed_name.data or "", request.remote_addr, request.user_agent.string,
             read_sha256=form.sha256.data or "")
    except FieldError as err:
        failed(err)
        return render_template("common/document.html", person=person, document=doc, portal=role.value,
                               signature=signature_of(doc, person), can_sign=True, error=err.message), 422
    flash("Signed. Thank you.", "success")
    return redirect(url_for(f"{role.value}.document", doc_id=doc.id))
