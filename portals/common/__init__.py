"""What several portals share: sign-in pages, messages, documents, pay and appointment buttons, the chooser
and sign-out; and the public application form of a unit (apply.py). The views live here once; each portal
registers those it uses on its own blueprint, one `add_url_rule` line each, in portals/<role>/__init__.py.

The `portals` blueprint below holds the pages under the agency itself (/<agency>/...) and the shared
templates (templates/common/)."""

from __future__ import annotations

from flask import Blueprint

from portal.signin import bind_agency
from portal.types import ID
from portals.common import actions, apply, signin

bp = Blueprint("portals", __name__, url_prefix="/<agency>", template_folder="templates")
bind_agency(bp)
bp.add_url_rule("/", "choose", signin.choose, methods=["GET"])
bp.add_url_rule("/signout", "signout", signin.signout, methods=["POST"])
bp.add_url_rule(f"/charges/<{ID}:charge_id>/pay", "pay_charge", actions.pay_charge, methods=["POST"])
bp.add_url_rule(f"/appointments/<{ID}:appointment_id>/respond", "respond_to_appointment",
                actions.respond_to_appointment, methods=["POST"])
# The public application form of a unit (no sign-in), and its thank-you page.
bp.add_url_rule(f"/apply/<{ID}:unit_id>", "apply", apply.apply, methods=["GET", "POST"])
bp.add_url_rule(f"/apply/<{ID}:unit_id>/thanks", "applied", apply.applied, methods=["GET"])
