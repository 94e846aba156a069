"""Charges in the back office, payment links sent by staff, autopay, appointments by link."""

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import db, links
from portal.appointments.models import Appointment, AppointmentStatus
from portal.links.models import ActionLink
from portal.money.models import Charge, ChargeKind, ChargeStatus, Mandate, Payment
from portal.money.operations import collect_due
from tests import factories as f
from tests.conftest import csrf_token, press_link


@pytest.fixture
def office(app, client, login):
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        f.staff(a)
        tenant = f.person(a, "Tom Tenant", "tom@example.com")
        lease = f.lease(a, tenant=tenant)
        ids = {"agency": a.id, "lease": lease.id, "tenant": tenant.id, "booking": f.booking(a).id}
        db.session.commit()
    login("manager@alpha.example", f.PASSWORD)
    return ids


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client.get("/manage/").text), **data})


def test_staff_create_a_charge_and_email_a_payment_link(app, client, office, run_jobs, smtp_server):
    bad = _post(client, "/manage/charges/new", kind="rent", lease_id=office["lease"], booking_id=office["booking"],
                description="Rent", amount="950", due_date="2026-12-01")
    assert bad.status_code == 422 and "Choose either a lease or a booking." in bad.text
    bad = _post(client, "/manage/charges/new", kind="rent", lease_id=office["lease"], description="Rent",
                amount="0", due_date="2026-12-01")
    assert "A charge is more than zero." in bad.text
    created = _post(client, "/manage/charges/new", kind="rent", lease_id=office["lease"],
                    description="Rent December 2026", amount="950.00", due_date="2026-12-01")
    assert created.status_code == 302
    detail = created.headers["Location"]
    charge_id = int(detail.rsplit("/", 1)[1])
    page = client.get(detail).text
    assert "Tom Tenant" in page and "950.00 EUR" in page
    sent = _post(client, f"/manage/charges/{charge_id}/send-link")
    assert sent.status_code == 302
    run_jobs()
    [email] = smtp_server.messages
    assert email["To"] == "tom@example.com" and email["Subject"] == "Payment due: Rent December 2026"
    token = re.search(r"/l/(\S+)", email.get_body(("plain",)).get_content()).group(1)
    assert "Pay 950.00 EUR" in email.get_body(("html",)).get_content()
    # The staff page lists the link; the tenant pays with it and sets up autopay.
    assert "pay" in client.get(detail).text
    tenant = client.application.test_client()
    done = press_link(tenant, token, autopay="yes")
    assert done.status_code == 200
    assert "Future rent for this lease will be paid automatically" in done.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Mandate.id)).execution_options(all_agencies=True)) == 1
    page = client.get(detail).text
    assert "paid" in page and "via link" in page


def test_autopay_collects_due_rent(app, office):
    from portal.agencies.models import Agency
    from portal.bookings.models import Lease
    from portal.money.operations import pay, set_up_autopay

    with app.app_context():
        db.scope(db.session, office["agency"])
        a = db.session.get(Agency, office["agency"])
        lease = db.session.get(Lease, office["lease"])
        first = f.charge(a, lease=lease, due=date(2026, 11, 1), description="Rent November 2026")
        pay(first, lease.tenant, first.balance, channel="link")
        set_up_autopay(first, lease.tenant)
        december = f.charge(a, lease=lease, due=date(2026, 12, 1), description="Rent December 2026")
        f.charge(a, lease=lease, due=date(2027, 1, 1), description="Rent January 2027")
        f.charge(a, lease=lease, due=date(2026, 12, 1), kind=ChargeKind.FEE, description="Key copy", amount="25")
        db.session.commit()
        paid = collect_due(date(2026, 12, 1))
        db.session.commit()
        assert [p.charge_id for p in paid] == [december.id]
        lease_charges = db.session.scalars(select(Charge).where(Charge.lease_id.is_not(None)))
        statuses = {c.description: c.status for c in lease_charges}
        assert statuses == {
            "Rent November 2026": ChargeStatus.PAID,
            "Rent December 2026": ChargeStatus.PAID,
            "Rent January 2027": ChargeStatus.OPEN,
            "Key copy": ChargeStatus.OPEN,  # autopay is for rent only
        }
        assert db.session.scalar(select(Payment.channel).where(Payment.charge_id == december.id)) == "autopay"
        assert collect_due(date(2026, 12, 1)) == []  # nothing twice


def test_money_collect_command(app, office):
    from portal.cli import cli

    result = app.test_cli_runner().invoke(cli, ["money", "collect"])
    assert result.exit_code == 0
    assert "Collected 0 automatic payment(s)." in result.output


def test_cancelled_charge_kills_its_links(app, client, office):
    with app.app_context():
        db.scope(db.session, office["agency"])
        from portal.agencies.models import Agency
        from portal.bookings.models import Lease

        lease = db.session.get(Lease, office["lease"])
        charge = f.charge(db.session.get(Agency, office["agency"]), lease=lease)
        token = links.token(links.create("pay", charge, lease.tenant))
        charge_id = charge.id
        db.session.commit()
    assert _post(client, f"/manage/charges/{charge_id}/cancel").status_code == 302
    assert client.get(f"/l/{token}").status_code == 410
    assert "Only an open charge can be changed." in _post(
        client, f"/manage/charges/{charge_id}/edit", kind="rent", lease_id=office["lease"], description="x",
        amount="1", due_date="2026-12-01").text


def test_staff_revoke_a_link_from_the_persons_page(app, client, office):
    with app.app_context():
        db.scope(db.session, office["agency"])
        from portal.people.models import Person, PortalRole
        from portal.people.operations import grant_role

        grant_role(db.session.get(Person, office["tenant"]), PortalRole.TENANT)
        db.session.commit()
    assert _post(client, f"/manage/people/{office['tenant']}/send-link").status_code == 302
    page = client.get(f"/manage/people/{office['tenant']}").text
    assert "login" in page and "active" in page
    link_id = re.search(r"/manage/links/([A-Za-z0-9_-]{22})/revoke", page).group(1)
    person_page = f"/manage/people/{office['tenant']}"
    assert _post(client, f"/manage/links/{link_id}/revoke", next=person_page).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ActionLink.revoked_at).execution_options(all_agencies=True)) is not None
    assert "revoked" in client.get(f"/manage/people/{office['tenant']}").text


def test_appointment_confirmed_or_moved_by_link(app, client, office, run_jobs, smtp_server):
    created = _post(client, "/manage/appointments/new", person_id=office["tenant"], unit_id="", title="Boiler service",
                    starts_at="2026-12-03T10:30", duration_minutes=45, status="proposed", notes="Please be in.")
    assert created.status_code == 302
    appointment_id = int(created.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        db.scope(db.session, office["agency"])
        starts = db.session.get(Appointment, appointment_id).starts_at
    assert (starts.hour, starts.minute) == (9, 30)  # 10:30 in Madrid is 09:30 UTC in winter
    _post(client, f"/manage/appointments/{appointment_id}/send-link")
    run_jobs()
    token = re.search(r"/l/(\S+)", smtp_server.messages[0].get_body(("plain",)).get_content()).group(1)
    guest = app.test_client()
    page = guest.get(f"/l/{token}")
    assert "Confirm Boiler service on Thu, 3 Dec 2026, 10:30" in page.text
    empty = press_link(guest, token, choice="move", message="  ")
    assert empty.status_code == 422 and "Tell us when would suit you better." in empty.text
    moved = press_link(guest, token, choice="move", message="Any afternoon next week")
    assert moved.status_code == 200
    with app.app_context():
        db.scope(db.session, office["agency"])
        appointment = db.session.get(Appointment, appointment_id)
        assert appointment.status == AppointmentStatus.MOVE_REQUESTED
        assert appointment.move_request == "Any afternoon next week"
    assert "Any afternoon next week" in client.get(f"/manage/appointments/{appointment_id}").text
    # Staff move it: a new link confirms the new time; the old one is dead.
    assert guest.get(f"/l/{token}").status_code == 410
    _post(client, f"/manage/appointments/{appointment_id}/edit", person_id=office["tenant"], unit_id="",
          title="Boiler service", starts_at="2026-12-09T15:00", duration_minutes=45, status="proposed")
    smtp_server.clear()
    _post(client, f"/manage/appointments/{appointment_id}/send-link")
    run_jobs()
    token = re.search(r"/l/(\S+)", smtp_server.messages[0].get_body(("plain",)).get_content()).group(1)
    assert press_link(guest, token, choice="confirm").status_code == 200
    with app.app_context():
        db.scope(db.session, office["agency"])
        assert db.session.get(Appointment, appointment_id).status == AppointmentStatus.CONFIRMED


def test_portal_pay_button_goes_through_a_link(app, client, office, run_jobs, smtp_server):
    with app.app_context():
        db.scope(db.session, office["agency"])
        from portal.agencies.models import Agency
        from portal.bookings.models import Lease
        from portal.people.models import PortalRole
        from portal.people.operations import grant_role

        lease = db.session.get(Lease, office["lease"])
        grant_role(lease.tenant, PortalRole.TENANT)
        f.charge(db.session.get(Agency, office["agency"]), lease=lease, amount="950.00")
        token = links.token(links.create("login", lease.tenant, lease.tenant))
        db.session.commit()
    tenant = app.test_client()
    press_link(tenant, token)
    home = tenant.get("/alpha/tenant/")
    assert "Rent December 2026" in home.text and "950.00 EUR" in home.text
    charge_id = int(re.search(r"/alpha/charges/(\d+)/pay", home.text).group(1))
    go = tenant.post(f"/alpha/charges/{charge_id}/pay", data={"csrf_token": csrf_token(home.text)})
    assert go.status_code == 303 and "/l/pay~" in go.headers["Location"]
    token = go.headers["Location"].rsplit("/", 1)[1]
    assert press_link(tenant, token).status_code == 200
    assert "Nothing to pay right now." in tenant.get("/alpha/tenant/").text
    # Another person's real, open charge through the same door: not found.
    with app.app_context():
        db.scope(db.session, office["agency"])
        from portal.bookings.models import Booking

        someone_else = f.charge(db.session.get(Agency, office["agency"]),
                                booking=db.session.get(Booking, office["booking"]), amount="80.00").id
        db.session.commit()
    assert tenant.post(f"/alpha/charges/{someone_else}/pay",
                       data={"csrf_token": csrf_token(home.text)}).status_code == 404


def test_charge_and_appointment_text_must_fit_on_one_line(app, client, office):
    bad = _post(client, "/manage/charges/new", kind="fee", lease_id=office["lease"],
                description="Cleaning\r\nBcc: x@evil.example", amount="10", due_date="2026-12-01")
    assert bad.status_code == 422 and "Keep this on one line." in bad.text
    bad = _post(client, "/manage/appointments/new", person_id=office["tenant"], unit_id="", title="A\nB",
                starts_at="2026-12-03T10:30", duration_minutes=45, status="proposed")
    assert bad.status_code == 422 and "Keep this on one line." in bad.text
    with app.app_context():
        # Only the booking's own balance charge: the refused form wrote none.
        assert db.session.scalar(select(func.count(Charge.id)).where(Charge.slot.is_(None))
                                 .execution_options(all_agencies=True)) == 0


def test_a_charge_cannot_be_cut_to_what_was_already_paid(app, client, office):
    with app.app_context():
        db.scope(db.session, office["agency"])
        from portal.agencies.models import Agency
        from portal.bookings.models import Lease
        from portal.money.operations import pay

        lease = db.session.get(Lease, office["lease"])
        charge = f.charge(db.session.get(Agency, office["agency"]), lease=lease, amount="950.00")
        db.session.get(Agency, office["agency"]).settings = {"partial_payments": True}
        pay(charge, lease.tenant, Decimal("400.00"), channel="office")
        charge_id = charge.id
        db.session.commit()
    edit = f"/manage/charges/{charge_id}/edit"
    response = _post(client, edit, kind="rent", lease_id=office["lease"], description="Rent", amount="400.00",
                     due_date="2026-12-01")
    assert response.status_code == 422
    assert "The amount must be more than what was already paid." in response.text


def test_no_link_is_sent_for_a_paid_charge(app, client, office, run_jobs, smtp_server):
    with app.app_context():
        db.scope(db.session, office["agency"])
        from portal.agencies.models import Agency
        from portal.bookings.models import Lease
        from portal.money.operations import pay

        lease = db.session.get(Lease, office["lease"])
        charge = f.charge(db.session.get(Agency, office["agency"]), lease=lease)
        pay(charge, lease.tenant, charge.balance, channel="office")
        charge_id = charge.id
        db.session.commit()
    run_jobs()
    smtp_server.clear()
    response = _post(client, f"/manage/charges/{charge_id}/send-link")
    assert response.status_code == 302
    assert "cannot be sent" in client.get(response.headers["Location"]).text
    run_jobs()
    assert smtp_server.messages == []


def test_appointment_in_the_spring_forward_gap_is_refused(app, client, office):
    response = _post(client, "/manage/appointments/new", person_id=office["tenant"], unit_id="", title="Viewing",
                     starts_at="2027-03-28T02:30", duration_minutes=30, status="proposed")
    assert response.status_code == 422
    assert "That time does not exist on that day" in response.text
