"""The `portico` commands: agencies, managers, demo data, worker."""

import re
from decimal import Decimal

from sqlalchemy import func, select

from automation import dispatcher
from portal import clock, db, queue
from portal.agencies.models import Agency, StaffUser
from portal.bookings.models import Booking, Lease
from portal.cli import cli
from portal.people.models import Person
from portal.properties.models import Property, Unit
from tests.conftest import csrf_token


def _invoke(app, *args, input=None):
    return app.test_cli_runner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_create_agency_and_manager(app, client, login):
    result = _invoke(app, "create-agency", "--slug", "sol", "--name", "Sol Homes", "--timezone", "Atlantic/Canary")
    assert result.exit_code == 0, result.output
    result = _invoke(app, "create-manager", "--agency", "sol", "--email", "boss@sol.example", "--name", "Boss",
                     "--password", "long enough password")
    assert result.exit_code == 0, result.output
    assert login("boss@sol.example", "long enough password").status_code == 302


def test_create_agency_rejects_bad_values(app):
    assert _invoke(app, "create-agency", "--slug", "Bad Slug", "--name", "x").exit_code == 2
    result = _invoke(app, "create-agency", "--slug", "ok", "--name", "x", "--timezone", "Mars/Olympus")
    assert result.exit_code == 2
    assert "not an IANA time zone" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Agency.id))) == 0


def test_create_manager_rejects_short_password_and_unknown_agency(app):
    _invoke(app, "create-agency", "--slug", "sol", "--name", "Sol")
    assert _invoke(app, "create-manager", "--agency", "nope", "--email", "a@b.example", "--name", "A",
                   "--password", "long enough password").exit_code == 2
    result = _invoke(app, "create-manager", "--agency", "sol", "--email", "a@b.example", "--name", "A",
                     "--password", "short")
    assert result.exit_code == 2
    with app.app_context():
        assert db.session.scalar(select(func.count(StaffUser.id)).execution_options(all_agencies=True)) == 0


def test_demo_loads_a_believable_agency_that_the_back_office_lists(app, client, login, run_jobs, smtp_server):
    result = _invoke(app, "demo")
    assert result.exit_code == 0, result.output
    email, password = result.output.strip().split("Sign in as ")[1].split(" / ")
    with app.app_context():
        agency = db.session.scalar(select(Agency))
        db.scope(db.session, agency.id)
        count = lambda model: db.session.scalar(select(func.count(model.id)))  # noqa: E731
        assert count(Property) == 2
        assert 18 <= count(Unit) <= 22
        assert count(Lease) >= 5
        assert count(Booking) >= 50
        assert count(Person) >= 30
        today = __import__("datetime").date.today()
        assert db.session.scalar(select(func.count(Booking.id)).where(Booking.arrival < today)) > 0
        assert db.session.scalar(select(func.count(Booking.id)).where(Booking.arrival > today)) > 0
        some_booking = db.session.scalar(select(Booking.reference).order_by(Booking.arrival.desc()))
        # Its automation is on, with tasks planned on its bookings.
        from automation.models import Solution, Task, TaskStatus
        from devtools.automation_demo import SOLUTIONS

        active = set(db.session.scalars(select(Solution.kind).where(Solution.active)))
        # The work-order loop's too, the statements', applicants', notices', quotes', survey's and review's.
        assert active == {kind for kind, *_ in SOLUTIONS} and len(active) == 18
        planned = db.session.execute(select(Task.object_type, func.count(Task.id))
                                     .where(Task.status == TaskStatus.PENDING).group_by(Task.object_type)).all()
        assert dict(planned).get("booking", 0) > 20
        # ... and its last-minute booking is due at once: the owner, instructions, a reminder.
        late = db.session.scalars(select(Task).where(Task.due_at <= clock.now())).all()
        # ... and the approvals its orders wait for are asked at once.
        # ... and so are its open violation notices and insurance quotes (the tenant's and the staying guest's).
        assert sorted(t.solution.kind for t in late) == [
            "applicant-owner-approval", "applicant-owner-approval", "extra-services", "insurance-quote",
            "insurance-quote", "invoice-owner-approval", "owner-new-booking", "pending-payment", "violation-notice",
            "violation-notice", "workorder-owner-approval", "workorder-vendor-acceptance"]
        # Every balance owed can be paid (an open charge for it), and portal users have done things.
        from portal.bookings.models import BookingStatus
        from portal.documents.models import Signature
        from portal.money.operations import balance_charge
        from portal.workorders.models import WorkOrder

        owing = db.session.scalars(select(Booking).where(Booking.status != BookingStatus.CANCELLED,
                                                         Booking.amount_paid < Booking.amount_due)).all()
        assert owing and all(balance_charge(b).amount == b.balance for b in owing)
        assert count(Signature) >= 1 and count(WorkOrder) >= 2
        assert db.session.scalar(select(func.count(Booking.id)).where(Booking.checked_in_at.is_not(None))) >= 1
        # The work-order loop shows in each of its states, with the invoice thresholds that make the gate mean
        # something; the order in progress has a photo.
        from portal.files.models import WorkOrderFile
        from portal.invoices.models import Invoice, InvoiceStatus
        from portal.workorders.models import WorkStatus

        states = set(db.session.scalars(select(WorkOrder.status)))
        assert {WorkStatus.SUBMITTED, WorkStatus.AWAITING_OWNER_APPROVAL, WorkStatus.AWAITING_VENDOR_ACCEPTANCE,
                WorkStatus.SCHEDULED, WorkStatus.IN_PROGRESS, WorkStatus.INVOICED, WorkStatus.CLOSED} <= states
        in_progress = db.session.scalar(select(WorkOrder).where(WorkOrder.status == WorkStatus.IN_PROGRESS))
        assert db.session.scalar(select(func.count(WorkOrderFile.id))
                                 .where(WorkOrderFile.work_order_id == in_progress.id)) == 1
        invoices = {i.status: i for i in db.session.scalars(select(Invoice))}
        assert set(invoices) == {InvoiceStatus.AWAITING_OWNER_APPROVAL, InvoiceStatus.PAID}
        assert invoices[InvoiceStatus.PAID].work_order.status == WorkStatus.CLOSED
        # Applicants in each state; units taking applications (their public forms open).
        from portal.applicants.models import Applicant, ApplicantStatus

        assert set(db.session.scalars(select(Applicant.status))) == set(ApplicantStatus)
        assert db.session.scalar(select(func.count(Unit.id)).where(Unit.accepting_applications)) >= 2
    assert login(email, password).status_code == 302
    assert "Seafront Apartments" in client.get("/manage/properties").text
    assert some_booking in client.get("/manage/bookings").text
    assert "Apartment 1A" in client.get("/manage/units").text
    assert "Page 1 of" in client.get("/manage/people").text
    assert "open-ended" in client.get("/manage/leases").text
    assert client.get("/manage/").status_code == 200
    # Its integrations: iCal calendars (sync turned off, a clean run and one with refused events) and a CSV
    # upload that brought a unit; the bookings they brought say so.
    integrations = client.get("/manage/integrations").text
    assert "Airbnb &amp; Vrbo calendars" in integrations and "Owner spreadsheet (Old Town)" in integrations
    assert "badge-run-partial" in integrations and "badge-run-succeeded" in integrations
    with app.app_context():
        from portal.integrations.models import BookingSource, SyncError, SyncRun

        db.scope(db.session, agency.id)
        error_run = db.session.scalar(select(SyncError.run_id).limit(1))
        sourced = db.session.scalar(select(BookingSource.booking_id).limit(1))
        assert db.session.scalar(select(func.count(SyncRun.id))) == 3
        from portal.integrations.models import Integration

        # Each integration was added before its first run, as its page's "Added" and "Runs" show them.
        for added, first_run in db.session.execute(select(Integration.created_at, func.min(SyncRun.started_at))
                                                   .join(SyncRun, SyncRun.integration_id == Integration.id)
                                                   .group_by(Integration.id, Integration.created_at)):
            assert added <= first_run
        assert db.session.scalar(select(Unit.name).where(Unit.external_id == "OLD-11")) == "Flat 11"
    assert "The calendar server answered 503" in client.get(f"/manage/integration-runs/{error_run}").text
    assert "Airbnb &amp; Vrbo calendars" in client.get(f"/manage/bookings/{sourced}").text
    # The demo greets its next arrivals, so the sent-mail page has real messages with links.
    run_jobs()
    welcomes = [m for m in smtp_server.messages if m["Subject"].endswith("confirmed")]
    assert len(welcomes) == 3
    assert all("/costa-serena/guest/" in m.get_body(("plain",)).get_content() for m in welcomes)
    assert client.get("/manage/mail").text.count("confirmed</a>") == 3
    # Guests owing a balance got a working pay link (the templates' link() merge field).
    pay_links = [re.search(r"/l/pay~\S+", m.get_body(("plain",)).get_content()) for m in welcomes]
    assert any(pay_links)
    assert client.get(next(p for p in pay_links if p).group(0)).status_code == 200
    assert "Rent " in client.get("/manage/charges?kind=rent").text
    assert "Boiler service" in client.get("/manage/appointments").text
    # The demo's waiting approvals are mailed with their one-click links: the owner's work and invoice
    # approvals and the vendor's new job, each link opening its page.
    with app.app_context():
        dispatcher.dispatch()
    run_jobs()
    for subject, action in (("Your approval is needed", "order_approval"), ("New job for you", "order_acceptance"),
                            ("Invoice to approve", "invoice_approval"), ("An applicant for", "applicant_approval")):
        mail = next(m for m in smtp_server.messages if m["Subject"].startswith(subject))
        link = re.search(rf"/l/{action}~\S+", mail.get_body(("plain",)).get_content()).group(0)
        assert client.get(link).status_code == 200, subject
    # A survey with answers to show, a tenant's survey link and a departed guest's review link waiting.
    with app.app_context():
        from portal.surveys.models import Response, Survey

        survey = db.session.scalar(select(Survey).execution_options(all_agencies=True))
        assert db.session.scalar(select(func.count(Response.id)).execution_options(all_agencies=True)) == 4
    assert "Quick and tidy" in client.get(f"/manage/surveys/{survey.id}/results").text
    for subject, action in (("A few questions from us", "survey"), ("How was your stay", "review")):
        mail = next(m for m in smtp_server.messages if m["Subject"].startswith(subject))
        link = re.search(rf"/l/{action}~\S+", mail.get_body(("plain",)).get_content()).group(0)
        assert client.get(link).status_code == 200, subject
    # Each owner's management agreement states that owner's fee terms (their own, else the agency's).
    with app.app_context():
        from portal.documents.models import Document

        agreements = {d.person.fee_percent: d.body for d in db.session.scalars(
            select(Document).where(Document.title == "Management agreement").execution_options(all_agencies=True))}
    assert "agency's settings" not in " ".join(agreements.values())
    fixed = "% of each month's income and 12.00 EUR per unit per month"
    assert f"Management fee: 6.5 {fixed}" in agreements[Decimal("6.50")]
    assert f"Management fee: 8 {fixed}" in agreements[None]
    # Last month's statements were sent, one left a draft for staff to send: sending it mails its owner.
    with app.app_context():
        from portal.accounting.models import Statement, StatementStatus

        statements = list(db.session.scalars(select(Statement).execution_options(all_agencies=True)))
        drafts = [s for s in statements if s.status == StatementStatus.DRAFT]
        assert len(drafts) == 1 and len(statements) > 1 and len({s.month for s in statements}) == 1
        draft = drafts[0]
    page = client.get(f"/manage/statements/{draft.id}")
    assert page.status_code == 200
    sent = client.post(f"/manage/statements/{draft.id}/send", data={"csrf_token": csrf_token(page.text)})
    assert sent.status_code in (302, 303)
    with app.app_context():
        assert db.session.scalar(select(Statement.status).where(Statement.id == draft.id)
                                 .execution_options(all_agencies=True)) == StatementStatus.SENT
        dispatcher.dispatch()
    run_jobs()
    ready = [m for m in smtp_server.messages if m["Subject"].startswith("Your statement for")]
    assert len(ready) == 1 and "/l/statement~" in ready[0].get_body(("plain",)).get_content()
    # Loading only when empty leaves an existing database alone.
    assert "not loaded" in _invoke(app, "demo", "--if-empty").output


def test_db_upgrade_is_idempotent(app):
    result = _invoke(app, "db", "upgrade")
    assert result.exit_code == 0
    assert "up to date" in result.output


def test_worker_runs_jobs_inside_the_app_context(app):
    with app.app_context():
        job = queue.enqueue(count_agencies, job_id="count-1")
        again = queue.enqueue(count_agencies, job_id="count-1")
        assert again.id == job.id
        assert queue.get_queue().count == 1
    result = _invoke(app, "worker", "--burst")
    assert result.exit_code == 0
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == 0


def count_agencies() -> int:
    """A job: proves the worker gives jobs an app context and a database session."""
    return db.session.scalar(select(func.count(Agency.id)))


def test_demo_refuses_to_run_in_production_and_writes_nothing(app, tmp_path, monkeypatch):
    from portal import create_app
    from tests.conftest import test_config

    instance = tmp_path / "instance"
    monkeypatch.setenv("PORTICO_INSTANCE", str(instance))
    production = create_app(test_config(tmp_path, app.config["REDIS_URL"], app.config["SMTP_URL"], 443,
                                        DATABASE_URL=app.config["DATABASE_URL"], PORTICO_ENV="production",
                                        BASE_URL="https://portico.example"))
    try:
        result = production.test_cli_runner().invoke(cli, ["demo"])
        again = production.test_cli_runner().invoke(cli, ["demo", "--if-empty"])
    finally:
        production.extensions["db.engine"].dispose()
    assert result.exit_code == 2 and again.exit_code == 2
    assert "refused in production" in result.stderr and "PORTICO_ENV=development" in result.stderr
    assert "Sign in as" not in result.output
    assert not (instance / "demo-login.txt").exists()
    with app.app_context():
        assert db.session.scalar(select(func.count(Agency.id))) == 0
        assert db.session.scalar(select(func.count(StaffUser.id)).execution_options(all_agencies=True)) == 0
