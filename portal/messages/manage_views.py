"""The communication log as staff see it (sent mail), and staff writing to a person through it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import mail
from portal.manage import bp
from portal.messages.forms import MessageForm
from portal.messages.models import Message, MessageStatus
from portal.messages.queries import sent_mail
from portal.pages import get_scoped, paginate, requested_page
from portal.people.models import Person
from portal.types import ID


@bp.get("/mail")
def mail_list():
    """Every message the agency sent, newest first."""
    status = request.args.get("status", "")
    stmt = sent_mail(MessageStatus(status) if status in {s.value for s in MessageStatus} else None)
    page = paginate(stmt, requested_page(), 25)
    return render_template("manage/mail_list.html", page=page, status=status, statuses=list(MessageStatus))


@bp.get(f"/mail/<{ID}:obj_id>")
def mail_detail(obj_id: int):
    """One message in the agency's layout, its one-time links and codes described, never usable."""
    message = get_scoped(Message, obj_id)
    subject, text, html = mail.present(message, for_staff=True)
    return render_template("manage/mail_detail.html", message=message, subject=subject, text=text, html=html)


@bp.route(f"/people/<{ID}:obj_id>/message", methods=["GET", "POST"])
def people_message(obj_id: int):
    """Write an e-mail to one person."""
    person = get_scoped(Person, obj_id)
    form = MessageForm()
    status = 200
    if not person.email:
        form.subject.errors = ["This person has no e-mail address. Add one first."]
        status = 422
    elif form.validate_on_submit():
        html = render_template("mail/staff_message.html", body=form.body.data, agency=current_user.agency)
        mail.send(to=person.email, subject=form.subject.data, text=form.body.data, html=html,
                  person=person, about=person)
        flash(f"Message to {person.name} queued for sending.", "success")
        return redirect(url_for("manage.people_detail", obj_id=person.id))
    elif form.is_submitted():
        status = 422
    return render_template("manage/message_form.html", form=form, person=person), status
