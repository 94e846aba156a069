"""Staff write to a person; the message goes through the communication log like all mail."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal import db, mail
from portal.manage import bp
from portal.manage.forms import MessageForm
from portal.manage.resources import people
from portal.types import ID


@bp.route(f"/people/<{ID}:obj_id>/message", methods=["GET", "POST"])
def people_message(obj_id: int):
    """Write an e-mail to one person."""
    person = people.get(obj_id)
    form = MessageForm()
    status = 200
    if not person.email:
        form.subject.errors = ["This person has no e-mail address. Add one first."]
        status = 422
    elif form.validate_on_submit():
        html = render_template("mail/staff_message.html", body=form.body.data, agency=current_user.agency)
        mail.send(to=person.email, subject=form.subject.data, text=form.body.data, html=html,
                  person=person, about=person)
        db.session.commit()
        flash(f"Message to {person.name} queued for sending.", "success")
        return redirect(url_for("manage.people_detail", obj_id=person.id))
    elif form.is_submitted():
        status = 422
    return render_template("manage/message_form.html", form=form, person=person), status

