"""The back office's view of a work order's files: the photo or PDF itself, and a photo's thumbnail."""

from __future__ import annotations

from flask_login import current_user

from portal.files.queries import get_file
from portal.files.serve import send
from portal.manage import bp
from portal.types import ID


@bp.get(f"/workorders/<{ID}:order_id>/files/<{ID}:file_id>")
def workorder_file(order_id: int, file_id: int):
    """One file of one of the agency's work orders."""
    return send(get_file(order_id, file_id, staff=current_user))


@bp.get(f"/workorders/<{ID}:order_id>/files/<{ID}:file_id>/thumb")
def workorder_file_thumb(order_id: int, file_id: int):
    """A photo's thumbnail (404 for a PDF, which has none)."""
    return send(get_file(order_id, file_id, staff=current_user), thumbnail=True)
