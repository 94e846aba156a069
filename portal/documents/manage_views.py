"""Back-office pages for documents: list, detail, new and edit (who may see one: portal.access.manage_views)."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import desc

from portal.access import CAPABILITIES
from portal.access.queries import document_rules, is_shared
from portal.bookings.queries import booking_choices, lease_choices
from portal.documents.forms import DocumentForm
from portal.documents.models import Document, DocumentKind
from portal.documents.operations import save_document, signatures_of
from portal.fields import enum_choices, options
from portal.manage import bp
from portal.manage.crud import Column, Filter, Resource
from portal.people.models import Person
from portal.people.queries import people_choices
from portal.types import ID


def _prepare_document_form(form: DocumentForm) -> None:
    form.person_id.choices = options(people_choices())
    form.lease_id.choices = options(lease_choices())
    form.booking_id.choices = options(booking_choices(current_user.agency.babel_locale))


documents = Resource(
    name="documents",
    singular="document",
    model=Document,
    form_class=DocumentForm,
    save=save_document,
    columns=[
        Column("Title", lambda d: d.title, link=True),
        Column("For", lambda d: d.person.name),
        Column("Kind", lambda d: d.kind.value),
        Column("Signature", lambda d: "signed" if d.signed else "needed" if d.requires_signature else ""),
        Column("Created", lambda d: d.created_at.date()),
    ],
    search=[Document.title, Person.name],
    search_joins=[Document.person],
    filters=[
        Filter("kind", "Kind", lambda s, v: s.where(Document.kind == DocumentKind(v)),
               choices=lambda: enum_choices(DocumentKind)),
    ],
    order_by=[desc(Document.created_at), desc(Document.id)],
    prepare_form=_prepare_document_form,
    form_data=lambda d: {"person_id": d.person_id, "kind": d.kind, "title": d.title, "body": d.body,
                         "requires_signature": d.requires_signature, "lease_id": d.lease_id,
                         "booking_id": d.booking_id},
    related=lambda d: {
        "signatures": signatures_of(d),
        "rules": document_rules(d.id),
        "document_capabilities": [c for c in CAPABILITIES.values() if c.items == "Document"],
        "people_choices": people_choices(),
        "shared": is_shared(d.id),
    },
)
bp.add_url_rule("/documents", "documents_list", documents.list_view)
bp.add_url_rule("/documents/new", "documents_new", documents.form_view, methods=["GET", "POST"])
bp.add_url_rule(f"/documents/<{ID}:obj_id>", "documents_detail", documents.detail_view)
bp.add_url_rule(f"/documents/<{ID}:obj_id>/edit", "documents_edit", documents.form_view, methods=["GET", "POST"])
