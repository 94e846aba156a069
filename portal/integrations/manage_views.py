"""The back office's integrations: the list, adding and configuring one, the sync-stays switch with its
confirmations (seed 004), run now, the runs with their progress and per-line errors, CSV uploads with their
templates; and a unit's calendar export (create, copy, revoke)."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal import db
from portal.fields import Form, failed, options, record_id
from portal.integrations import csvimport, queries
from portal.integrations import operations as ops
from portal.integrations import stays as engine
from portal.integrations.forms import (
    KIND_LABELS,
    EditIntegrationForm,
    ExportForm,
    FeedForm,
    FeedRemoveForm,
    IntegrationForm,
    SyncForm,
    UploadForm,
)
from portal.integrations.models import Integration, IntegrationKind, RunStatus, SyncError, SyncRun
from portal.integrations.sync import NotRunnable, request_sync
from portal.manage import bp
from portal.operations import FieldError
from portal.pages import get_scoped, paginate, requested_page
from portal.properties.models import Unit
from portal.types import ID

RUNS_PER_PAGE = 10
ERRORS_SHOWN = 200
TRIGGERS = {"scheduled": "on schedule", "manual": "Run now", "upload": "file upload", "api": "pushed through the API"}
# What staff tick before switching (seed 004): the consequence, and the box that says they understood it.
DIALOGS = {
    "on": {"title": "Turn on “Sync stays”?", "button": "Confirm & Turn On",
           "text": "All imported units will be considered active for syncing: from now on, their new and changed "
                   "stays from this source become bookings in Portico (and feed the automation like any other).",
           "tick": "I understand that all imported units will be considered active for syncing."},
    "off": {"title": "Turn off “Sync stays”?", "button": "Confirm & Turn Off",
            "text": "You're about to stop syncing new and upcoming stays from this PMS or booking platform. "
                    "Bookings already taken stay as they are.",
            "tick": "I understand that syncing will stop and no new or updated stays will appear in Portico."},
}


@bp.get("/integrations")
def integrations_list():
    """Every integration: its kind, whether it syncs stays, its last run, its units or feeds."""
    page = paginate(queries.integrations_query(), requested_page(), 50)
    return render_template("integrations/list.html", page=page, rows=queries.rows(page.items), kinds=KIND_LABELS)


def _form_page(form: IntegrationForm, integration: Integration | None, status: int = 200):
    return render_template("integrations/form.html", form=form, obj=integration), status


@bp.route("/integrations/new", methods=["GET", "POST"])
def integrations_new():
    """A new integration: its name, kind, interval and what a disappeared stay does; sync stays starts off."""
    form = IntegrationForm()
    if not form.validate_on_submit():
        return _form_page(form, None, 422 if form.is_submitted() else 200)
    try:
        integration = ops.save_integration(None, current_user.agency_id, form.data)
    except FieldError as err:
        failed(err, form)
        return _form_page(form, None, 422)
    flash("Integration added. Sync stays is off: turn it on once its units are in.", "success")
    return redirect(url_for("manage.integrations_detail", obj_id=integration.id))


@bp.route(f"/integrations/<{ID}:obj_id>/edit", methods=["GET", "POST"])
def integrations_edit(obj_id: int):
    """Change an integration's name, interval or what a disappeared stay does."""
    integration = get_scoped(Integration, obj_id)
    data = {"name": integration.name, "interval_minutes": integration.interval_minutes,
            "when_missing": integration.when_missing.value}
    form = EditIntegrationForm(data=data) if request.method == "GET" else EditIntegrationForm()
    if not form.validate_on_submit():
        return _form_page(form, integration, 422 if form.is_submitted() else 200)
    try:
        ops.save_integration(integration, current_user.agency_id, form.data)
    except FieldError as err:
        failed(err, form)
        return _form_page(form, get_scoped(Integration, obj_id), 422)
    flash("Integration saved.", "success")
    return redirect(url_for("manage.integrations_detail", obj_id=obj_id))


def _detail(integration: Integration, *, sync_form: SyncForm | None = None, feed_form: FeedForm | None = None,
            upload_form: UploadForm | None = None, dialog: str | None = None, status: int = 200):
    feed_form = feed_form or FeedForm(formdata=None)
    feed_form.unit.choices = options(queries.units_without_feed(integration))
    runs = paginate(queries.runs_query(integration.id), requested_page(), RUNS_PER_PAGE)
    running = next((r for r in runs.items if r.status == RunStatus.RUNNING), None) if runs.number == 1 else None
    return render_template(
        "integrations/detail.html", obj=integration, kinds=KIND_LABELS, runs=runs, running=running,
        feeds=queries.feeds(integration) if integration.kind == IntegrationKind.ICAL else [],
        triggers=TRIGGERS, error_counts=queries.error_counts([r.id for r in runs.items]),
        sync_form=sync_form or SyncForm(formdata=None), feed_form=feed_form,
        upload_form=upload_form or UploadForm(formdata=None), remove_form=FeedRemoveForm(formdata=None),
        action_form=Form(formdata=None), dialog=dialog, dialogs=DIALOGS, layouts=csvimport.LAYOUTS,
        max_mb=csvimport.MAX_BYTES // (1024 * 1024),
    ), status


@bp.get(f"/integrations/<{ID}:obj_id>")
def integrations_detail(obj_id: int):
    """An integration: the sync-stays switch, run now, its feeds or uploads, and its runs."""
    integration = get_scoped(Integration, obj_id)
    # ?confirm=on|off opens the switch's confirmation without JavaScript (the switch is a link to it).
    wanted = request.args.get("confirm")
    dialog = wanted if wanted in DIALOGS and (wanted == "on") != integration.sync_stays else None
    return _detail(integration, dialog=dialog)


@bp.post(f"/integrations/<{ID}:obj_id>/sync")
def integrations_sync(obj_id: int):
    """Turn sync stays on or off, only with the ticked confirmation of what that means (SPEC I2)."""
    integration = get_scoped(Integration, obj_id)
    form = SyncForm()
    if not form.validate_on_submit():
        return _detail(integration, sync_form=form, status=422)
    on = form.turn.data == "on"
    if on == integration.sync_stays:
        flash(f"Sync stays is already {'on' if on else 'off'}.", "success")
        return redirect(url_for("manage.integrations_detail", obj_id=obj_id))
    if not form.confirm.data:
        form.confirm.errors = ["Tick the box to confirm: nothing was changed."]
        return _detail(integration, sync_form=form, dialog=form.turn.data, status=422)
    try:
        engine.set_sync(integration, on, confirmed=True)
    except FieldError as err:
        failed(err, form)
        return _detail(get_scoped(Integration, obj_id), sync_form=form, dialog=form.turn.data, status=422)
    flash("Sync stays is on: new and changed stays from this source now become bookings." if on else
          "Sync stays is off: no new or updated stays will be taken. Existing bookings stay.", "success")
    return redirect(url_for("manage.integrations_detail", obj_id=obj_id))


@bp.post(f"/integrations/<{ID}:obj_id>/run")
def integrations_run_now(obj_id: int):
    """Read the integration's feeds now (a job); its run's page shows the progress."""
    integration = get_scoped(Integration, obj_id)
    if not Form().validate_on_submit():
        flash("That did not work: please try again.", "error")
        return _detail(integration, status=422)
    try:
        run = request_sync(integration)
    except NotRunnable as refused:
        flash(refused.message, "error")
        return _detail(integration, status=409 if refused.code == "already_running" else 422)
    flash("Sync started: the feeds are being read.", "success")
    return redirect(url_for("manage.integrations_run_page", obj_id=run.id))


@bp.post(f"/integrations/<{ID}:obj_id>/feeds")
def integrations_add_feed(obj_id: int):
    """Read a unit's calendar from this iCal integration."""
    integration = get_scoped(Integration, obj_id)
    form = FeedForm()
    form.unit.choices = options(queries.units_without_feed(integration))
    if not form.validate_on_submit():
        return _detail(integration, feed_form=form, status=422)
    try:
        ops.add_feed(integration, form.unit.data, form.url.data)
    except FieldError as err:
        if not failed(err, form):
            flash(err.message, "error")
        return _detail(get_scoped(Integration, obj_id), feed_form=form, status=422)
    flash("Feed added: it is read at the next sync.", "success")
    return redirect(url_for("manage.integrations_detail", obj_id=obj_id) + "#feeds")


@bp.post(f"/integrations/<{ID}:obj_id>/feeds/remove")
def integrations_remove_feed(obj_id: int):
    """Stop reading one unit's calendar (its bookings stay)."""
    integration = get_scoped(Integration, obj_id)
    form = FeedRemoveForm()
    if not form.validate_on_submit():
        flash("That did not work: please try again.", "error")
        return _detail(integration, status=422)
    try:
        feed_id = record_id(form.feed.data)
    except ValueError:
        feed_id = None
    try:
        ops.remove_feed(integration, feed_id)
    except FieldError as err:
        failed(err)
        flash(err.message, "error")
        return _detail(get_scoped(Integration, obj_id), status=422)
    flash("Feed removed.", "success")
    return redirect(url_for("manage.integrations_detail", obj_id=obj_id) + "#feeds")


@bp.post(f"/integrations/<{ID}:obj_id>/upload")
def integrations_upload(obj_id: int):
    """Import a CSV file of units or stays as one run: the good lines are taken, each bad one is an error."""
    integration = get_scoped(Integration, obj_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _detail(integration, upload_form=form, status=422)
    if integration.kind != IntegrationKind.CSV:
        flash("Only a CSV integration takes files.", "error")
        return _detail(integration, status=422)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = ["Choose the CSV file to upload."]
        return _detail(integration, upload_form=form, status=422)
    try:
        raw = upload.stream.read(csvimport.MAX_BYTES + 1)
    finally:
        upload.close()  # a large upload is spooled to a temporary file: let it go now
    try:
        parsed = csvimport.read(raw, form.what.data)
    except csvimport.FileRefused as refused:
        form.file.errors = [f"{refused.message} Nothing was imported."]
        return _detail(integration, upload_form=form, status=422)
    run = csvimport.start(integration, parsed)
    if len(parsed.lines) > current_app.config.get("CSV_INLINE_LINES", csvimport.INLINE_LINES):
        csvimport.queue_import(integration, run, parsed)
        flash(f"File received: its {len(parsed.lines):,} lines are being imported.", "success")
        return redirect(url_for("manage.integrations_run_page", obj_id=run.id))
    csvimport.run_import(integration, run, parsed)
    if run.status == RunStatus.SUCCEEDED:
        flash(f"File imported: {len(parsed.lines)} line{'s' if len(parsed.lines) != 1 else ''} read.", "success")
    else:
        flash("File imported, with lines refused: see each one below.", "error")
    return redirect(url_for("manage.integrations_run_page", obj_id=run.id))


@bp.get("/integrations/templates/<any(units, stays):what>.csv")
def integrations_template(what: str):
    """A template CSV file: the header and one example line."""
    return Response(csvimport.template(what), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="portico-{what}-template.csv"'})


@bp.post(f"/integrations/<{ID}:obj_id>/delete")
def integrations_delete(obj_id: int):
    """Remove an integration, its feeds and runs; its bookings stay, entered in Portico."""
    integration = get_scoped(Integration, obj_id)
    if not Form().validate_on_submit():
        flash("That did not work: please try again.", "error")
        return _detail(integration, status=422)
    name = integration.name
    ops.delete_integration(integration)
    flash(f"Integration “{name}” removed. Its bookings stay.", "success")
    return redirect(url_for("manage.integrations_list"))


def _run(obj_id: int) -> SyncRun:
    return get_scoped(SyncRun, obj_id)


@bp.get(f"/integration-runs/<{ID}:obj_id>")
def integrations_run_page(obj_id: int):
    """One run: its progress while it runs, then what it did and each line it refused."""
    run = _run(obj_id)
    errors = list(db.session.scalars(select(SyncError).where(SyncError.run_id == run.id)
                                     .order_by(SyncError.id).limit(ERRORS_SHOWN)))
    error_count = db.session.scalar(select(func.count(SyncError.id)).where(SyncError.run_id == run.id)) or 0
    return render_template("integrations/run.html", run=run, obj=run.integration, errors=errors,
                           error_count=error_count, kinds=KIND_LABELS, triggers=TRIGGERS)


@bp.get(f"/integration-runs/<{ID}:obj_id>/status")
def integrations_run_status(obj_id: int):
    """A run's progress as JSON, for its page to poll."""
    run = _run(obj_id)
    error_count = db.session.scalar(select(func.count(SyncError.id)).where(SyncError.run_id == run.id)) or 0
    response = jsonify(status=run.status.value, finished=run.status != RunStatus.RUNNING, total=run.total,
                       done=run.done, created=run.created, updated=run.updated, cancelled=run.cancelled,
                       skipped=run.skipped, units_created=run.units_created, units_updated=run.units_updated,
                       errors=error_count)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- a unit's calendar export (shown on the unit's page) ---------------------------------------------

@bp.post(f"/units/<{ID}:obj_id>/calendar-export")
def units_calendar_export(obj_id: int):
    """Give the unit a secret calendar URL for channels to read its availability."""
    unit = get_scoped(Unit, obj_id)
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    ops.create_export(unit, replace=form.replace.data)
    flash("New calendar URL ready: the old one no longer works. Give the new one to the channels you use."
          if form.replace.data else "Calendar URL ready: copy it into the channel's “Import calendar” setting.",
          "success")
    return redirect(url_for("manage.units_detail", obj_id=obj_id) + "#calendar")


@bp.post(f"/units/<{ID}:obj_id>/calendar-export/revoke")
def units_calendar_revoke(obj_id: int):
    """Kill the unit's calendar URL: whoever had it reads nothing more."""
    unit = get_scoped(Unit, obj_id)
    if not Form().validate_on_submit():
        abort(400)
    try:
        ops.revoke_export(unit)
    except FieldError as err:
        failed(err)
        flash(err.message, "error")
        return redirect(url_for("manage.units_detail", obj_id=obj_id) + "#calendar"), 303
    flash("Calendar URL revoked: channels that read it get nothing more. Make a new one to share again.", "success")
    return redirect(url_for("manage.units_detail", obj_id=obj_id) + "#calendar")

