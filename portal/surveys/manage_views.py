"""The back office's survey pages: the list, a survey's page (its questions, built here, and sending it to
people), its results (counts, averages, the text answers with who and when) and their CSV."""

from __future__ import annotations

import csv
import io

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import dates, db
from portal.csvsafe import text_cell
from portal.fields import Form, failed, options, record_id
from portal.links.delivery import send_link
from portal.manage import bp
from portal.operations import FieldError
from portal.pages import get_scoped, page_size, paginate, requested_page
from portal.people.models import Person
from portal.surveys import operations as ops
from portal.surveys import queries
from portal.surveys.forms import QuestionActionForm, QuestionForm, SendForm, SurveyForm
from portal.surveys.models import QuestionKind, Survey
from portal.types import ID


@bp.get("/surveys")
def surveys_list():
    """Every survey with how many people were asked and answered."""
    page = paginate(queries.surveys_query(), requested_page(), page_size())
    return render_template("surveys/list.html", page=page, triggers=ops.TRIGGERS,
                           tallies=queries.tallies([s.id for s in page.items]))


def _form_page(form: SurveyForm, survey: Survey | None, status: int = 200):
    return render_template("surveys/form.html", form=form, obj=survey), status


@bp.route("/surveys/new", methods=["GET", "POST"])
def surveys_new():
    """A new survey: its title, introduction, and whether something sends it on its own."""
    form = SurveyForm()
    if not form.validate_on_submit():
        return _form_page(form, None, 422 if form.is_submitted() else 200)
    try:
        survey = ops.save_survey(None, current_user.agency_id, form.data)
    except FieldError as err:
        failed(err, form)
        return _form_page(form, None, 422)
    flash("Survey created: now add its questions.", "success")
    return redirect(url_for("manage.surveys_detail", obj_id=survey.id))


@bp.route(f"/surveys/<{ID}:obj_id>/edit", methods=["GET", "POST"])
def surveys_edit(obj_id: int):
    """Change a survey's title, introduction or what sends it."""
    survey = get_scoped(Survey, obj_id)
    data = {"title": survey.title, "intro": survey.intro,
            "sends_after": survey.sends_after.value if survey.sends_after else ""}
    form = SurveyForm(data=data) if request.method == "GET" else SurveyForm()
    if not form.validate_on_submit():
        return _form_page(form, survey, 422 if form.is_submitted() else 200)
    try:
        ops.save_survey(survey, current_user.agency_id, form.data)
    except FieldError as err:
        failed(err, form)
        return _form_page(form, get_scoped(Survey, obj_id), 422)
    flash("Survey saved.", "success")
    return redirect(url_for("manage.surveys_detail", obj_id=obj_id))


def _detail(survey: Survey, *, question_form: QuestionForm | None = None, send_form: SendForm | None = None,
            status: int = 200):
    send_form = send_form or SendForm(formdata=None)
    send_form.people.choices = options(queries.people_to_ask(survey.agency_id))
    return render_template(
        "surveys/detail.html", obj=survey, locked=ops.has_responses(survey), triggers=ops.TRIGGERS,
        question_form=question_form or QuestionForm(formdata=None), send_form=send_form,
        action_form=QuestionActionForm(formdata=None), invitations=queries.recent_invitations(survey),
        results=queries.results(survey),
    ), status


@bp.get(f"/surveys/<{ID}:obj_id>")
def surveys_detail(obj_id: int):
    """A survey: its questions (added, moved and removed here until someone answers), sending it, who was asked."""
    return _detail(get_scoped(Survey, obj_id))


@bp.post(f"/surveys/<{ID}:obj_id>/questions")
def surveys_add_question(obj_id: int):
    """Add a question at the end."""
    survey = get_scoped(Survey, obj_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        return _detail(survey, question_form=form, status=422)
    try:
        ops.add_question(survey, form.prompt.data, form.kind.data, ops.parse_options(form.options.data),
                         form.required.data)
    except FieldError as err:
        if not failed(err, form):
            flash(err.message, "error")
        return _detail(get_scoped(Survey, obj_id), question_form=form, status=422)
    flash("Question added.", "success")
    return redirect(url_for("manage.surveys_detail", obj_id=obj_id) + "#questions")


def _question_id(form: QuestionActionForm) -> int | None:
    try:
        return record_id(form.question.data)
    except ValueError:
        return None


@bp.post(f"/surveys/<{ID}:obj_id>/questions/remove")
def surveys_remove_question(obj_id: int):
    """Take a question out (only until someone answers)."""
    return _question_action(obj_id, lambda survey, qid, form: ops.remove_question(survey, qid), "Question removed.")


@bp.post(f"/surveys/<{ID}:obj_id>/questions/move")
def surveys_move_question(obj_id: int):
    """Move a question up or down."""
    return _question_action(obj_id, lambda survey, qid, form: ops.move_question(
        survey, qid, up=form.direction.data == "up"), "Question moved.")


def _question_action(obj_id: int, act, done: str):
    survey = get_scoped(Survey, obj_id)
    form = QuestionActionForm()
    if not form.validate_on_submit():
        flash("That did not work: please try again.", "error")
        return _detail(survey, status=422)
    try:
        act(survey, _question_id(form), form)
    except FieldError as err:
        failed(err)
        flash(err.message, "error")
        return _detail(get_scoped(Survey, obj_id), status=422)
    flash(done, "success")
    return redirect(url_for("manage.surveys_detail", obj_id=obj_id) + "#questions")


@bp.post(f"/surveys/<{ID}:obj_id>/send")
def surveys_send(obj_id: int):
    """E-mail each person chosen their own one-time link to answer."""
    survey = get_scoped(Survey, obj_id)
    form = SendForm()
    form.people.choices = options(queries.people_to_ask(survey.agency_id))
    if not form.validate_on_submit():
        return _detail(survey, send_form=form, status=422)
    # The scoped session sees only the agency's people: another agency's id is simply not there.
    people = list(db.session.scalars(select(Person).where(Person.id.in_(form.people.data))
                                     .order_by(Person.name, Person.id)))
    staff_id = current_user.id
    try:
        for person in people:
            send_link("survey", ops.invite(survey, person), person, created_by=staff_id, named=True)
    except FieldError as err:
        if not failed(err, form):
            flash(err.message, "error")
        return _detail(get_scoped(Survey, obj_id), send_form=form, status=422)
    flash(f"Survey sent to {len(people)} {'person' if len(people) == 1 else 'people'}.", "success")
    return redirect(url_for("manage.surveys_detail", obj_id=obj_id))


@bp.post(f"/surveys/<{ID}:obj_id>/close")
def surveys_close(obj_id: int):
    """Close the survey (its links stop working) or open it again."""
    survey = get_scoped(Survey, obj_id)
    if not Form().validate_on_submit():
        flash("That did not work: please try again.", "error")
        return _detail(survey, status=422)
    ops.set_closed(survey, not survey.closed)
    flash("Survey closed: its links no longer work." if survey.closed else "Survey open again.", "success")
    return redirect(url_for("manage.surveys_detail", obj_id=obj_id))


@bp.get(f"/surveys/<{ID}:obj_id>/results")
def surveys_results(obj_id: int):
    """The answers so far: how many, the average and spread of each rating, the count of each option, the texts."""
    survey = get_scoped(Survey, obj_id)
    return render_template("surveys/results.html", obj=survey, results=queries.results(survey))


@bp.get(f"/surveys/<{ID}:obj_id>/results.csv")
def surveys_csv(obj_id: int):
    """Every response as a row: when, who, about what, then one column per question."""
    survey = get_scoped(Survey, obj_id)
    agency = current_user.agency
    out = io.StringIO()
    out.write("\ufeff")  # a byte-order mark: Excel then reads the file as UTF-8 (umlauts, accents, names)
    writer = csv.writer(out)
    writer.writerow(["Submitted", "Person", "About", *(q.prompt for q in survey.questions)])
    for response, answers in queries.responses(survey):
        row = [dates.format_moment(response.submitted_at, agency.babel_locale, agency.zone), response.person.name,
               response.invitation.about]
        for q in survey.questions:
            a = answers.get(q.id)
            value = "" if a is None else a.rating if q.kind == QuestionKind.RATING else (
                a.choice if q.kind == QuestionKind.CHOICE else a.text)
            row.append(text_cell(value))
        writer.writerow(row)
    name = f"survey-{survey.id}-results.csv"
    return Response(out.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
