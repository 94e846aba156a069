"""The guest portal's blueprint and the pages it shares with the other portals (its own pages: views.py)."""

from __future__ import annotations

from functools import partial

from flask import Blueprint

from portal import viewas
from portal.people.models import PortalRole
from portal.signin import bind_agency
from portal.types import ID
from portals.common import documents, files, messages, notices, signin

ROLE = PortalRole.GUEST
bp = Blueprint("guest", __name__, url_prefix="/<agency>/guest", template_folder="templates")
bind_agency(bp)
bp.before_request(signin.require_person)

# The pages every portal shares (portals/common), then this portal's own (views.py adds them).
bp.add_url_rule("/login", "login", signin.login, methods=["GET", "POST"])
bp.add_url_rule("/code", "code", signin.code, methods=["POST"])
bp.add_url_rule("/messages", "messages", messages.page, methods=["GET"])
viewas.register(ROLE, "messages", messages.TEMPLATE, messages.context)
bp.add_url_rule("/documents", "documents", documents.documents, methods=["GET"])
bp.add_url_rule(f"/documents/<{ID}:doc_id>", "document", documents.document, methods=["GET"])
bp.add_url_rule(f"/documents/<{ID}:doc_id>/sign", "sign_document", documents.sign_document, methods=["POST"])
viewas.register(ROLE, "documents", documents.TEMPLATE, partial(documents.context, role=ROLE))
files.register(bp)  # an order's photos and PDFs: <role>.order_file, <role>.order_file_thumb
notices.register(bp, ROLE)  # violation notices and insurance quotes: <role>.violations, <role>.quotes ...
