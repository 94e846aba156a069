"""The vendor portal's blueprint and the pages it shares with the other portals (its own pages: views.py)."""

from __future__ import annotations

from flask import Blueprint

from portal import viewas
from portal.people.models import PortalRole
from portal.signin import bind_agency
from portals.common import files, messages, signin

ROLE = PortalRole.VENDOR
bp = Blueprint("vendor", __name__, url_prefix="/<agency>/vendor", template_folder="templates")
bind_agency(bp)
bp.before_request(signin.require_person)

# The pages every portal shares (portals/common), then this portal's own (views.py adds them).
bp.add_url_rule("/login", "login", signin.login, methods=["GET", "POST"])
bp.add_url_rule("/code", "code", signin.code, methods=["POST"])
bp.add_url_rule("/messages", "messages", messages.page, methods=["GET"])
viewas.register(ROLE, "messages", messages.TEMPLATE, messages.context)
files.register(bp)  # an order's photos and PDFs: <role>.order_file, <role>.order_file_thumb
