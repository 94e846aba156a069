"""Sent mail: the communication log as staff see it."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import desc, select

from portal import mail
from portal.manage import bp
from portal.manage.crud import get_scoped, paginate, requested_page
from portal.messages.models import Message, MessageStatus
from portal.types import ID


@bp.get("/mail")
def mail_list():
    """Every message the agency sent, newest first."""
    stmt = select(Message).order_by(desc(Message.created_at), desc(Message.id))
    status = request.args.get("status", "")
    if status in {s.value for s in MessageStatus}:
        stmt = stmt.where(Message.status == MessageStatus(status))
    page = paginate(stmt, requested_page(), 25)
    return render_template("manage/mail_list.html", page=page, status=status, statuses=list(MessageStatus))


@bp.get(f"/mail/<{ID}:obj_id>")
def mail_detail(obj_id: int):
    """One message in the agency's layout, its one-time links and codes described, never usable."""
    message = get_scoped(Message, obj_id)
    subject, text, html = mail.present(message, for_staff=True)
    return render_template("manage/mail_detail.html", message=message, subject=subject, text=text, html=html)
