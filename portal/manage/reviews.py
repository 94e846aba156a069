"""Recording a guest's review from the booking's page (the event review solutions react to)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from portal import db
from portal.bookings.models import Booking
from portal.bookings.operations import record_review
from portal.manage import bp
from portal.manage.crud import get_scoped
from portal.operations import FieldError
from portal.types import ID


@bp.post(f"/bookings/<{ID}:obj_id>/review")
def bookings_review(obj_id: int):
    """Record the review the guest left for this stay."""
    booking = get_scoped(Booking, obj_id)
    try:
        record_review(booking, request.form.get("rating", ""), request.form.get("comment", ""))
    except FieldError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("manage.bookings_detail", obj_id=obj_id)), 303
    db.session.commit()
    flash("Review recorded.", "success")
    return redirect(url_for("manage.bookings_detail", obj_id=obj_id))
