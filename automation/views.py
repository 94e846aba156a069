"""Back-office pages for automation: solutions, templates, tasks and the dashboard."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import desc, select

from automation import charts, forms, operations, planner, queries, rendering, starter, stats
from automation.catalogue import CATEGORIES, KINDS, Kind
from automation.models import MailTemplate, Solution, Task, TaskStatus
from automation.subjects import BOOKING, SUBJECTS
from portal import agencies, db, health, mail
from portal.auth import staff_required
from portal.bookings.models import Booking
from portal.fields import failed
from portal.operations import FieldError
from portal.pages import get_scoped, paginate, requested_page
from portal.types import ID, parse_id

bp = Blueprint("automation", __name__, url_prefix="/manage/automation", template_folder="templates")

PERIODS = {"week": "This week", "month": "This month", "all": "Since activation"}
TASKS_PER_PAGE = 25
MAX_RETRY = 500  # ids per bulk retry: far more than a page shows
PREVIEW_LINK = "#one-time-link"  # a preview or a test never issues a real one-time link


bp.before_request(staff_required)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"KINDS": KINDS, "CATEGORIES": CATEGORIES, "timing_summary": queries.timing_summary,
            "new_kinds": _new_kinds}


def _new_kinds() -> list[tuple[Kind, bool]]:
    """The catalogue's kinds whose starter template the agency has not been offered yet, each with whether
    adding it switches its solution on."""
    missing = starter.missing(agencies.get(current_user.agency_id))
    return [(KINDS[k], starter.switched_on_when_caught_up(k)) for k in missing]


@bp.post("/starter")
def add_new_kinds() -> ResponseReturnValue:
    """Add the starter templates (and solutions) of the kinds the catalogue gained since the agency was made."""
    added = starter.catch_up(agencies.get(current_user.agency_id))
    if added:
        flash(f"Added {len(added)} new mail type{'s' if len(added) != 1 else ''}: "
              f"{', '.join(KINDS[k].label for k in added)}.", "success")
    else:
        flash("Every mail type is already there.", "info")
    return redirect(url_for("automation.solutions"))


# Dashboard (S10)


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """Recent and upcoming tasks, the period's figures and the charts."""
    period = request.args.get("period", "month")
    period = period if period in PERIODS else "month"
    agency_id = current_user.agency_id
    figures = stats.figures(agency_id, period)
    day_bars, day_top = charts.day_bars(figures.per_day)
    return render_template(
        "automation/dashboard.html", figures=figures, period=period, periods=PERIODS, day_bars=day_bars,
        day_top=day_top, usage_bars=charts.usage_bars(figures.most_used), chart_bottom=charts.DAY_CHART_BOTTOM,
        usage_row=charts.USAGE_ROW, recent=stats.recent(agency_id), upcoming=stats.upcoming(agency_id),
        dispatch=_dispatch_notice(),
    )


def _dispatch_notice() -> dict[str, Any] | None:
    """What to tell staff when due tasks are not being sent: dispatch late, or Redis not answering."""
    try:
        state = health.dispatch_state()
    except Exception as exc:  # Redis down: the page still shows, and says so
        return {"unreachable": type(exc).__name__}
    if not state.late:
        return None
    return {"age": None if state.age is None else health.as_duration(state.age),
            "late_after": health.as_duration(state.late_after)}


@bp.get("/live")
def live() -> ResponseReturnValue:
    """The dashboard's recent and upcoming lists alone, for its ten-second refresh."""
    agency_id = current_user.agency_id
    return render_template("automation/_live.html", recent=stats.recent(agency_id),
                           upcoming=stats.upcoming(agency_id))


# Solutions (S1-S6)


@bp.get("/solutions")
def solutions() -> ResponseReturnValue:
    """Every solution with its timing, state, task counts and backfill progress."""
    items = queries.solutions()
    in_progress = any(s.backfill_total > 0 and s.backfill_done < s.backfill_total for s in items)
    return render_template("automation/solutions.html", solutions=items, counts=queries.task_counts(),
                           in_progress=in_progress, limit=operations.max_active(current_user.agency),
                           counted=operations.counted_active(current_user.agency_id),
                           limit_note=operations.LIMIT_NOTE)


@bp.get("/solutions/new")
def new_solution() -> ResponseReturnValue:
    """Step 1: choose a category."""
    return render_template("automation/new_category.html")


@bp.get("/solutions/new/<category>")
def choose_kind(category: str) -> ResponseReturnValue:
    """Step 2: choose a solution of the category."""
    if category not in CATEGORIES:
        abort(404)
    kinds = [k for k in KINDS.values() if k.category == category]
    return render_template("automation/new_kind.html", category=category, kinds=kinds)


@bp.route("/solutions/new/<category>/<kind_name>", methods=["GET", "POST"])
def configure_solution(category: str, kind_name: str) -> ResponseReturnValue:
    """Step 3: configure and save a new solution (switched off until activated)."""
    kind = KINDS.get(kind_name)
    if kind is None or kind.category != category:
        abort(404)
    return _solution_form(kind, None)


@bp.route(f"/solutions/<{ID}:obj_id>/edit", methods=["GET", "POST"])
def edit_solution(obj_id: int) -> ResponseReturnValue:
    """Change a solution; an active one is planned again."""
    solution = get_scoped(Solution, obj_id)
    return _solution_form(KINDS[solution.kind], solution)


def _blocks_requested() -> int:
    n = parse_id(request.args.get("notifications")) or 1
    return max(1, min(n, forms.MAX_NOTIFICATIONS))


def _solution_form(kind: Kind, solution: Solution | None) -> ResponseReturnValue:
    agency = current_user.agency
    agency_templates = queries.mail_templates()
    if request.method == "GET":
        data = (forms.values(solution, agency.zone) if solution is not None
                else forms.defaults(kind, agency_templates, agency.today(), _blocks_requested()))
        blocks = _blocks_requested()
        data["notifications"] += [{} for _ in range(blocks - len(data["notifications"]))]
        form = forms.SolutionForm(formdata=None, data=data)
    else:
        form = forms.SolutionForm()
    forms.prepare(form, kind, agency_templates)
    problems: list[str] = []
    status = 200
    action = request.form.get("action", "save")
    if request.method == "POST" and action != "save":
        form = _change_blocks(form, action, kind, agency_templates)
    elif request.method == "POST":
        if form.validate():
            try:
                saved = operations.save_solution(solution, agency.id, forms.solution_data(form, kind, agency.zone,
                                                                                          solution))
            except FieldError as err:
                if not failed(err, form):
                    problems.append(err.message)
                status = 422
            else:
                state = "It is active and planned again." if saved.active else "Activate it when you are ready."
                flash(f"Solution {saved.name!r} saved. {state}", "success")
                return redirect(url_for("automation.solutions"))
        else:
            status = 422
    return render_template("automation/configure.html", form=form, kind=kind, solution=solution,
                           problems=problems, failed=status == 422,
                           has_templates=bool(forms.usable_templates(kind, agency_templates))), status


def _change_blocks(form: forms.SolutionForm, action: str, kind: Kind,
                   agency_templates: list[MailTemplate]) -> forms.SolutionForm:
    """'+ Add notification' or 'Remove': the same form, one block more or less, nothing saved."""
    data = form.data
    blocks = data["notifications"]
    if action == "add" and len(blocks) < forms.MAX_NOTIFICATIONS:
        blocks.append({"roles": [], "template_id": forms.default_template(kind, agency_templates)})
    elif action.startswith("remove-") and len(blocks) > 1:
        index = parse_id(action.removeprefix("remove-"))
        if index is not None and index < len(blocks):
            blocks.pop(index)
    data.pop("csrf_token", None)
    fresh = forms.SolutionForm(formdata=None, data=data)
    forms.prepare(fresh, kind, agency_templates)
    return fresh


@bp.post(f"/solutions/<{ID}:obj_id>/activate")
def activate_solution(obj_id: int) -> ResponseReturnValue:
    """Switch a solution on, within the agency's limit."""
    solution = get_scoped(Solution, obj_id)
    try:
        operations.activate(solution)
    except FieldError as err:
        failed(err)
        flash(err.message, "error")
    else:
        flash(f"{solution.name!r} is active: its tasks are being planned.", "success")
    return redirect(url_for("automation.solutions"))


@bp.post(f"/solutions/<{ID}:obj_id>/deactivate")
def deactivate_solution(obj_id: int) -> ResponseReturnValue:
    """Switch a solution off; its pending tasks are cancelled."""
    solution = get_scoped(Solution, obj_id)
    cancelled = operations.deactivate(solution)
    flash(f"{solution.name!r} is switched off; {cancelled} pending task{'s' if cancelled != 1 else ''} cancelled.",
          "success")
    return redirect(url_for("automation.solutions"))


@bp.route(f"/solutions/<{ID}:obj_id>/delete", methods=["GET", "POST"])
def delete_solution(obj_id: int) -> ResponseReturnValue:
    """Ask, then delete a solution with its notifications and tasks."""
    solution = get_scoped(Solution, obj_id)
    if request.method == "GET":
        counts = queries.task_counts().get(solution.id, {})
        return render_template("automation/delete.html", solution=solution, counts=counts)
    name = solution.name
    operations.delete_solution(solution)
    flash(f"Solution {name!r} deleted.", "success")
    return redirect(url_for("automation.solutions"))


@bp.get(f"/solutions/<{ID}:obj_id>/dry-run")
def dry_run(obj_id: int) -> ResponseReturnValue:
    """What the solution would send in the next 30 days; nothing is sent or written."""
    solution = get_scoped(Solution, obj_id)
    previews = planner.dry_run(solution)
    positions = {n.id: n.position + 1 for n in solution.notifications}
    lines = list(zip(previews, queries.describe_previews(solution, previews), strict=True))
    return render_template("automation/dry_run.html", solution=solution, previews=previews, lines=lines,
                           positions=positions, kind=KINDS[solution.kind])


# Templates (S9)


@bp.get("/templates")
def mail_templates() -> ResponseReturnValue:
    """The agency's mail templates."""
    return render_template("automation/templates.html", templates=queries.mail_templates(),
                           usage=queries.template_usage())


STARTER = {
    "subject": "Your stay {{ booking.reference }} at {{ unit.name }}",
    "text_body": "Hello {{ recipient.first_name }},\n\nWe look forward to seeing you on {{ booking.arrival }}.\n\n"
                 "{{ agency.name }}",
}


@bp.route("/templates/new", methods=["GET", "POST"], defaults={"obj_id": None})
@bp.route(f"/templates/<{ID}:obj_id>/edit", methods=["GET", "POST"])
def edit_template(obj_id: int | None) -> ResponseReturnValue:
    """Create or change a template; one that cannot render is refused beside the field."""
    template = get_scoped(MailTemplate, obj_id) if obj_id is not None else None
    if request.method == "GET":
        data = ({"name": template.name, "subject": template.subject, "html_body": template.html_body,
                 "text_body": template.text_body} if template else STARTER)
        form = forms.TemplateForm(formdata=None, data=data)
    else:
        form = forms.TemplateForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                saved = operations.save_template(template, current_user.agency_id, form.data)
            except FieldError as err:
                failed(err, form)
                status = 422
            else:
                flash(f"Template {saved.name!r} saved.", "success")
                return redirect(url_for("automation.preview_template", obj_id=saved.id))
        else:
            status = 422
    return render_template("automation/template_form.html", form=form, template=template,
                           fields=rendering.FIELDS, groups=rendering.GROUPS, links=rendering.LINKS), status


def _bookings() -> list[Booking]:
    return list(db.session.scalars(select(Booking).order_by(desc(Booking.arrival), desc(Booking.id)).limit(100)))


def _chosen_booking(raw: str | None) -> Booking | None:
    booking_id = parse_id(raw)
    return get_scoped(Booking, booking_id) if booking_id else None


def _about_bookings(template: MailTemplate) -> bool:
    """The template can be rendered with a booking (it needs nothing of another kind)."""
    fits = rendering.subjects_for(template.subject, template.html_body, template.text_body)
    return not fits or "booking" in fits


def _render(template: MailTemplate, booking: Booking | None) -> tuple[rendering.Rendered | None, str | None, str]:
    """The template rendered with a real booking (or sample values), links as placeholders."""
    fits = rendering.subjects_for(template.subject, template.html_body, template.text_body)
    if booking is not None and (not fits or "booking" in fits):
        guest = booking.guest
        context = {**BOOKING.context(booking), "recipient": {
            "name": guest.name, "first_name": (guest.name.split() or [""])[0], "email": guest.email or ""}}
        subject_name, source = "booking", f"booking {booking.reference}"
    else:  # not about bookings (an appointment's, say): its own kind's sample values
        subject_name = fits[0] if fits else "booking"
        label = SUBJECTS[subject_name].label.lower() if subject_name in SUBJECTS else subject_name
        context, source = rendering.sample(subject_name), f"sample values ({label})"
    try:
        rendered = rendering.render(template.subject, template.html_body, template.text_body, context,
                                    rendering.LINKS[subject_name])
    except rendering.TemplateProblem as exc:
        return None, str(exc), source
    return rendered.fill(lambda action: PREVIEW_LINK), None, source


@bp.get(f"/templates/<{ID}:obj_id>/preview")
def preview_template(obj_id: int) -> ResponseReturnValue:
    """The template rendered with one of the agency's bookings; nothing is written."""
    template = get_scoped(MailTemplate, obj_id)
    about_bookings = _about_bookings(template)  # others render with their own kind's sample values
    bookings = _bookings() if about_bookings else []
    booking = _chosen_booking(request.args.get("booking")) if about_bookings else None
    if booking is None and request.args.get("booking") != "" and bookings:
        booking = bookings[0]
    rendered, problem, source = _render(template, booking)
    return render_template("automation/preview.html", template=template, bookings=bookings, booking=booking,
                           rendered=rendered, problem=problem, source=source)


@bp.post(f"/templates/<{ID}:obj_id>/test")
def send_test(obj_id: int) -> ResponseReturnValue:
    """Send the rendered template to the signed-in user."""
    template = get_scoped(MailTemplate, obj_id)
    booking = _chosen_booking(request.form.get("booking")) if _about_bookings(template) else None
    rendered, problem, source = _render(template, booking)
    if rendered is None:
        flash(f"Nothing was sent: {problem}", "error")
        bookings = _bookings() if _about_bookings(template) else []
        return render_template("automation/preview.html", template=template, bookings=bookings, booking=booking,
                               rendered=None, problem=problem, source=source), 422
    mail.send(to=current_user.email, subject=f"[Test] {rendered.subject}"[:500], text=rendered.text or
              rendered.subject, html=rendered.html or None, agency_id=current_user.agency_id)
    flash(f"Test sent to {current_user.email}, rendered with {source}.", "success")
    return redirect(url_for("automation.preview_template", obj_id=template.id,
                            booking=booking.id if booking else ""))


# Tasks (S7)


@bp.get("/tasks")
def tasks() -> ResponseReturnValue:
    """Every task, filtered by reference, due dates, category, status and solution."""
    all_solutions = list(db.session.scalars(select(Solution).order_by(Solution.name, Solution.id)))
    filters = queries.TaskFilters.parse(request.args, {s.id for s in all_solutions})
    for problem in filters.problems:
        flash(problem, "error")
    page = paginate(queries.tasks_query(filters, current_user.agency.zone), requested_page(), TASKS_PER_PAGE)
    return render_template("automation/tasks.html", page=page, filters=filters, solutions=all_solutions,
                           statuses=list(TaskStatus), retryable=operations.RETRYABLE,
                           recipients=queries.task_recipients(list(page.items)))


def _back_to_tasks() -> ResponseReturnValue:
    # Only the known filter keys go back into the URL: the form cannot redirect anywhere else.
    args = {k: v for k, v in request.form.items() if k.startswith("f-")}
    kept = {k[2:]: v for k, v in args.items() if k[2:] in (*queries.FILTER_KEYS, "page") and v}
    return redirect(url_for("automation.tasks", **kept))


@bp.post("/tasks/retry")
def retry_tasks() -> ResponseReturnValue:
    """Retry the selected failed or skipped tasks."""
    ids = [i for i in (parse_id(raw) for raw in request.form.getlist("task_ids")[:MAX_RETRY]) if i]
    own = list(db.session.scalars(select(Task.id).where(Task.id.in_(ids)))) if ids else []
    if not own:
        flash("Select the failed or skipped tasks to retry.", "error")
        return _back_to_tasks()
    count = operations.retry(own)
    left = len(own) - count
    message = f"{count} task{'s' if count != 1 else ''} will be tried again within moments."
    if left:
        message += (f" {left} could not be retried: only failed or skipped tasks are; a sent task is never "
                    "sent twice.")
    flash(message, "success" if count else "error")
    return _back_to_tasks()


@bp.post(f"/tasks/<{ID}:obj_id>/retry")
def retry_task(obj_id: int) -> ResponseReturnValue:
    """Retry one failed or skipped task."""
    task = get_scoped(Task, obj_id)
    if task.status not in operations.RETRYABLE:
        flash(f"This task is {task.status.value}: only failed or skipped tasks can be retried, and a sent task "
              "cannot be changed.", "error")
        return _back_to_tasks()
    operations.retry([task.id])
    flash("The task will be tried again within moments; its conditions are checked again first.", "success")
    return _back_to_tasks()

