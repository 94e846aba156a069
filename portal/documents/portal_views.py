"""The documents pages every portal that has documents shares: list, read, e-sign."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from portal import access, db, viewas
from portal.documents.models import Document
from portal.documents.operations import sign, signature_of
from portal.operations import FieldError
from portal.people.models import PortalRole
from portal.signin import current_person
from portal.types import ID


def recent_documents(person, role: PortalRole, limit: int = 5) -> list[Document]:
    """The person's newest documents that the authorization engine lets them see."""
    view = f"{role.value}.documents.view"
    return list(db.session.scalars(
        select(Document)
        .where(access.visible(person, role, view, Document, Document.person_id == person.id))
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(limit)
    ))


def install(bp: Blueprint, role: PortalRole) -> None:
    """Add /documents, /documents/<id> and its sign form to a portal blueprint."""
    view, signing = f"{role.value}.documents.view", f"{role.value}.documents.sign"

    def _get(doc_id: int) -> Document:
        document = db.session.get(Document, doc_id)
        if document is None:
            abort(404)
        access.require(current_person(), role, view, document)
        return document

    def documents_context(person) -> dict:
        rows = db.session.scalars(
            select(Document)
            .where(access.visible(person, role, view, Document, Document.person_id == person.id))
            .order_by(Document.created_at.desc(), Document.id.desc())
        ).all()
        return {"person": person, "documents": rows, "portal": bp.name}

    viewas.register(role, "documents", "portal/documents.html", documents_context)

    @bp.get("/documents")
    def documents():
        return render_template("portal/documents.html", **documents_context(current_person()))

    @bp.get(f"/documents/<{ID}:doc_id>")
    def document(doc_id: int):
        person, doc = current_person(), _get(doc_id)
        decision = access.can(person, role, signing, doc)
        can_sign = doc.requires_signature and doc.person_id == person.id and decision.allowed
        return render_template("portal/document.html", person=person, document=doc, portal=bp.name,
                               signature=signature_of(doc, person), can_sign=can_sign, sign_decision=decision,
                               error=None)

    @bp.post(f"/documents/<{ID}:doc_id>/sign")
    def sign_document(doc_id: int):
        person, doc = current_person(), _get(doc_id)
        access.require(person, role, signing, doc)
        try:
            sign(doc, person, request.form.get("typed_name", ""), request.remote_addr, request.user_agent.string,
                 read_sha256=request.form.get("sha256", ""))
        except FieldError as err:
            db.session.rollback()
            return render_template("portal/document.html", person=person, document=doc, portal=bp.name,
                                   signature=signature_of(doc, person), can_sign=True, error=err.message), 422
        db.session.commit()
        flash("Signed. Thank you.", "success")
        return redirect(url_for(f"{bp.name}.document", doc_id=doc.id))
