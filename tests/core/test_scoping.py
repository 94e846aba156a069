"""Agency isolation: one scoping mechanism, and every back-office ID route answers 404 across agencies."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import func, select

from portal import db, links, mail
from portal.accounting import ledger
from portal.accounting import operations as accounting
from portal.accounting.contributions import request_contribution
from portal.bookings.models import Booking
from portal.money.operations import pay
from portal.people.models import Person
from tests import factories as f
from tests.conftest import csrf_token


def test_unscoped_session_sees_no_agency_rows(ctx):
    a = f.agency("alpha")
    f.booking(a)
    db.session.commit()
    db.scope(db.session, None)
    assert db.session.scalar(select(func.count(Booking.id))) == 0
    assert db.session.scalar(select(func.count(Booking.id)).execution_options(all_agencies=True)) == 1


def test_scope_filters_get_joins_and_updates(ctx):
    a, b = f.agency("alpha"), f.agency("beta")
    db.scope(db.session, b.id)
    theirs = f.booking(b, guest=f.person(b, "Bea", "bea@example.com")).id
    alpha = a.id
    db.session.commit()
    db.session.expunge_all()
    db.scope(db.session, alpha)
    assert db.session.get(Booking, theirs) is None
    joined = select(Booking).join(Booking.guest).where(Person.name == "Bea")
    assert db.session.scalars(joined).all() == []
    from sqlalchemy import update

    result = db.session.execute(
        update(Booking).where(Booking.id == theirs).values(notes="hacked")
        .execution_options(synchronize_session=False)
    )
    assert result.rowcount == 0


# Which fixture object each back-office resource's <obj_id> routes take.
KINDS = {"properties": "property", "units": "unit", "people": "person", "leases": "lease",
         "bookings": "booking", "mail": "message", "charges": "charge", "appointments": "appointment",
         "links": "link", "documents": "document", "access": "window", "work-orders": "workorder",
         "invoices": "invoice", "workorders": "workorder", "owner-accounts": "owner", "statements": "statement",
         "contributions": "contribution", "applicants": "applicant", "violations": "violation", "insurance": "quote",
         "surveys": "survey", "agency": "api_key", "integrations": "integration", "integration-runs": "run"}
# Other URL arguments of ID routes, valid for the objects made below.
EXTRA_ARGS = {"role": "guest", "page": "home", "action": "cancel"}


def _objects(a):
    u = f.unit(a, f.prop(a, f"{a.slug} House"))
    guest = f.person(a, f"{a.slug} guest", f"guest@{a.slug}.example")
    b = f.booking(a, u, guest)
    msg = mail.send(to=guest.email, subject="Hello", text="Hi", person=guest, about=b)
    charge = f.charge(a, booking=b)
    link = links.create("pay", charge, guest)
    from portal.access.models import TimeWindow
    from portal.documents.models import Document, DocumentKind

    document = Document(agency_id=a.id, person_id=guest.id, kind=DocumentKind.NOTICE, title="Notice", body="x")
    window = TimeWindow(agency_id=a.id, capability="guest.pay", first_day=28, last_day=28)
    db.session.add_all([document, window])
    db.session.flush()
    from portal.workorders.operations import submit_request

    workorder = submit_request(guest, u, "repair", "Tap", "Drips")
    from portal.files.operations import add_file
    from portal.invoices.operations import create_invoice
    from portal.workorders.models import WorkStatus
    from tests.workorders.test_files import jpeg

    photo = add_file(workorder, io.BytesIO(jpeg()), "tap.jpg", person=guest)
    vendor = f.person(a, f"{a.slug} vendor", f"vendor@{a.slug}.example", roles=["vendor"])
    done = submit_request(guest, u, "repair", "Door", "Sticks")
    done.vendor_id, done.status = vendor.id, WorkStatus.COMPLETED
    invoice = create_invoice(done, vendor, number="INV-1",
                             lines=[{"description": "Work", "quantity": "1", "unit_price": "10.00"}])
    from tests.surveys.world import make_survey

    survey = make_survey(a, trigger=None)
    from portal.applicants.operations import submit

    applicant = submit(u, kind="tenant", name="Ann Applicant", email=f"ann@{a.slug}.example",
                       move_in=b.arrival, source="staff", by=f.staff(a, f"desk@{a.slug}.example"))
    paid = f.charge(a, booking=b, amount="40.00", description="Late check-out")
    payment = pay(paid, guest, paid.amount, channel="office")
    owner = f.person(a, f"{a.slug} owner", f"owner@{a.slug}.example", roles=["owner"])
    u.owners.append(owner)
    statement = accounting.generate(owner, ledger.previous_month(a.today()), a.currency)
    contribution = request_contribution(owner, Decimal("20.00"), a.currency)
    from werkzeug.datastructures import FileStorage

    from portal.insurance.operations import create_quote
    from portal.violations.operations import record

    staff = f.staff(a, f"notices@{a.slug}.example")
    notice = record(a.id, {"booking_id": b.id, "category": "noise", "rule": "Quiet hours", "description": "Loud",
                           "observed_on": a.today()}, staff, photos=[FileStorage(io.BytesIO(jpeg()), "hall.jpg")])
    quote = create_quote(a.id, {"booking_id": b.id, "insurer": "Sol", "product": "Cover", "cover": "All",
                                "premium": Decimal("20"), "currency": "EUR",
                                "valid_until": a.today() + timedelta(days=5)}, staff)
    from portal.api.keys import create_key

    api_key, _ = create_key(a.id, "PMS", "read-write", staff.id)
    from portal.integrations.models import Feed, Integration, IntegrationKind
    from portal.integrations.stays import record_error, start_run

    integration = Integration(agency_id=a.id, name="Airbnb calendars", kind=IntegrationKind.ICAL)
    db.session.add(integration)
    db.session.flush()
    db.session.add(Feed(agency_id=a.id, integration_id=integration.id, unit_id=u.id,
                        url="https://www.airbnb.com/calendar/ical/1.ics"))
    run = start_run(integration, "manual", 1)
    record_error(run, "feed of 1A", "The feed answered 500.", "https://www.airbnb.com/calendar/ical/1.ics")
    return {"api_key": api_key, "integration": integration, "run": run,
            "survey": survey, "violation": notice, "violation_photo": notice.photos[0], "quote": quote, "owner": owner,
            "statement": statement, "contribution": contribution, "payment_charge": paid, "payment": payment,
            "property": u.property, "unit": u, "person": guest, "lease": f.lease(a, u), "booking": b,
            "message": msg, "charge": charge, "appointment": f.appointment(a, guest), "link": link,
            "document": document, "window": window, "workorder": workorder, "file": photo, "invoice": invoice,
            "applicant": applicant}


@pytest.fixture
def two_agencies(app, login):
    with app.app_context():
        b, a = f.agency("beta"), f.agency("alpha")
        f.staff(a)
        mine = {k: o.id for k, o in _objects(a).items()}
        db.scope(db.session, b.id)
        theirs = {k: o.id for k, o in _objects(b).items()}
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return mine, theirs


def _id_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("manage.") and rule.arguments & {"obj_id", "link_id", "order_id"}:
            yield rule


def _url(app, rule, objects):
    """The rule's URL for one agency's objects (a file route takes its order's id and the file's)."""
    kind = KINDS[re.match(r"/manage/([a-z-]+)/", rule.rule).group(1)]
    if "file_id" in rule.arguments:
        ids = {"order_id": objects["workorder"], "file_id": objects["file"]}
    elif "payment_id" in rule.arguments:  # a payment's refund: its charge's id and the payment's
        ids = {"obj_id": objects["payment_charge"], "payment_id": objects["payment"]}
    elif "photo_id" in rule.arguments:
        ids = {"obj_id": objects["violation"], "photo_id": objects["violation_photo"]}
    else:
        ids = {"link_id" if "link_id" in rule.arguments else "obj_id": objects[kind]}
    extra = {k: v for k, v in EXTRA_ARGS.items() if k in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **ids, **extra)


def test_every_id_route_is_covered(app):
    rules = list(_id_rules(app))
    assert len(rules) >= 11
    for rule in rules:
        kind = re.match(r"/manage/([a-z-]+)/", rule.rule).group(1)
        assert kind in KINDS, f"{rule.rule}: add its object kind to KINDS so isolation is tested"


def test_another_agencys_ids_are_404_on_every_route(app, client, two_agencies):
    mine, theirs = two_agencies
    token = csrf_token(client.get("/manage/").text)
    checked = 0
    for rule in _id_rules(app):
        own_url, other_url = _url(app, rule, mine), _url(app, rule, theirs)
        if "GET" in rule.methods:
            with client.get(own_url) as own:
                assert own.status_code == 200, own_url
            response = client.get(other_url)
            assert response.status_code == 404, other_url
            assert "could not find" in response.text
            # Their order with my file's id, my order with their file's id: not found either.
            if "file_id" in rule.arguments:
                for mixed in ({**mine, "file": theirs["file"]}, {**theirs, "file": mine["file"]}):
                    assert client.get(_url(app, rule, mixed)).status_code == 404, rule.rule
            if "photo_id" in rule.arguments:  # my notice with their photo's id, and the other way round
                for mixed in ({**mine, "violation_photo": theirs["violation_photo"]},
                              {**theirs, "violation_photo": mine["violation_photo"]}):
                    assert client.get(_url(app, rule, mixed)).status_code == 404, rule.rule
            # Ids beyond any database's integer range are simply not found (not a 500).
            huge = re.sub(r"/\d+(/|$)", r"/99999999999999999999\1", own_url, count=1)
            assert client.get(huge).status_code == 404, huge
        if "POST" in rule.methods:
            assert client.post(other_url, data={"csrf_token": token, "name": "x"}).status_code == 404, other_url
            if "payment_id" in rule.arguments:  # my charge with their payment's id: not found either
                mixed = _url(app, rule, {**mine, "payment": theirs["payment"]})
                assert client.post(mixed, data={"csrf_token": token, "amount": "1", "reason": "x"}).status_code \
                    == 404, rule.rule
        checked += 1
    assert checked == len(list(_id_rules(app)))
    # Nothing of the other agency's changed: their link is still alive, their charge open.
    with app.app_context():
        from portal.links.models import ActionLink

        assert db.session.scalar(
            select(ActionLink.revoked_at).where(ActionLink.id == theirs["link"]).execution_options(all_agencies=True)
        ) is None
        from portal.workorders.models import WorkOrder, WorkStatus

        assert db.session.scalar(select(WorkOrder.status).where(WorkOrder.id == theirs["workorder"])
                                 .execution_options(all_agencies=True)) == WorkStatus.SUBMITTED
        from portal.applicants.models import Applicant, ApplicantStatus

        assert db.session.scalar(select(Applicant.status).where(Applicant.id == theirs["applicant"])
                                 .execution_options(all_agencies=True)) == ApplicantStatus.SUBMITTED
        from portal.insurance.models import InsuranceQuote, QuoteStatus
        from portal.violations.models import Violation, ViolationStatus

        assert db.session.scalar(select(Violation.status).where(Violation.id == theirs["violation"])
                                 .execution_options(all_agencies=True)) == ViolationStatus.OPEN
        assert db.session.scalar(select(InsuranceQuote.status).where(InsuranceQuote.id == theirs["quote"])
                                 .execution_options(all_agencies=True)) == QuoteStatus.OPEN
        from portal.api.models import ApiKey

        assert db.session.scalar(select(ApiKey.revoked_at).where(ApiKey.id == theirs["api_key"])
                                 .execution_options(all_agencies=True)) is None
        # Their integration still there, its sync still off, its feed kept; their unit has no calendar export.
        from portal.integrations.models import CalendarExport, Feed, Integration

        assert db.session.scalar(select(Integration.sync_stays).where(Integration.id == theirs["integration"])
                                 .execution_options(all_agencies=True)) is False
        assert db.session.scalar(select(func.count(Feed.id)).where(Feed.integration_id == theirs["integration"])
                                 .execution_options(all_agencies=True)) == 1
        assert db.session.scalar(select(func.count(CalendarExport.id)).execution_options(all_agencies=True)) == 0


def test_lists_show_only_the_agencys_rows(client, two_agencies):
    page = client.get("/manage/people").text
    assert "alpha guest" in page
    assert "beta guest" not in page
    page = client.get("/manage/mail").text
    assert page.count("Hello") == 1
