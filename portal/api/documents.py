"""/api/v1/documents: documents' metadata (what, for whom, about which lease or booking and unit, signed or not),
never their text: list and get."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.api.core import Blueprint, has_id, paginate, require
from portal.api.schemas import PageArgs, QueryBoolean, QueryId, page_of
from portal.documents.models import Document, DocumentKind, Signature
from portal.types import ID

blp = Blueprint("documents", __name__, description="Documents: agreements, notices and letters (metadata only).")


def _unit_id(document: Document) -> int | None:
    about = document.lease or document.booking
    return about.unit_id if about is not None else None


class DocumentSchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.Enum(DocumentKind, by_value=True, required=True)
    person_id = fields.Integer(required=True, metadata={"description": "The person it is for"})
    lease_id = fields.Integer(required=True, allow_none=True)
    booking_id = fields.Integer(required=True, allow_none=True)
    unit_id = fields.Function(_unit_id, required=True, allow_none=True,
                              metadata={"type": "integer", "nullable": True,
                                        "description": "The unit of its lease or booking"})
    requires_signature = fields.Boolean(required=True)
    signed = fields.Boolean(required=True, metadata={"description": "Whether the person it is for has signed it"})
    created_at = fields.DateTime(required=True)


class DocumentFilters(PageArgs):
    kind = fields.Enum(DocumentKind, by_value=True)
    person_id = QueryId()
    lease_id = QueryId()
    booking_id = QueryId()
    signed = QueryBoolean(metadata={"description": "true: signed by the person it is for; false: not (yet)"})


def _query():
    return select(Document).options(selectinload(Document.lease), selectinload(Document.booking))


@blp.route("/documents")
@blp.arguments(DocumentFilters, location="query")
@blp.response(200, page_of(DocumentSchema))
def list_documents(args: dict[str, Any]):
    """List documents (newest first)"""
    stmt = _query()
    for name in ("kind", "person_id", "lease_id", "booking_id"):
        if name in args:
            stmt = stmt.where(getattr(Document, name) == args[name])
    if "signed" in args:
        signed = select(Signature.id).where(Signature.document_id == Document.id,
                                            Signature.person_id == Document.person_id).exists()
        stmt = stmt.where(signed if args["signed"] else ~signed)
    return paginate(stmt, args, order_by=(Document.created_at.desc(),))


@blp.route(f"/documents/<{ID}:document_id>")
@has_id
@blp.etag
@blp.response(200, DocumentSchema)
def get_document(document_id: int):
    """Get a document's metadata"""
    return require(Document, document_id)
