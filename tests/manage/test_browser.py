"""Real Chromium against the live server: staff sign in, create a booking, see it in the list."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal import db
from tests import factories as f
from tests.conftest import browser_portal_sign_in

pytestmark = pytest.mark.browser


def test_staff_signs_in_creates_a_booking_and_sees_it_listed(app, page):
    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        f.staff(a)
        f.unit(a, f.prop(a, "Seafront"), "Apartment 1A")
        f.person(a, "Ana Guest", "ana@example.com")
        db.session.commit()

    page.goto("/manage/bookings")
    assert "/manage/login" in page.url  # sent to sign in first
    page.get_by_label("E-mail").fill("manager@alpha.example")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/manage/bookings$"))
    expect(page.get_by_text("Alpha Rentals").first).to_be_visible()

    page.get_by_role("link", name="New booking").click()
    page.get_by_label("Guest", exact=True).select_option(label="Ana Guest <ana@example.com>")
    page.get_by_label("Unit").select_option(label="Seafront · Apartment 1A")
    arrival = date.today() + timedelta(days=14)
    page.get_by_label("Arrival").fill(arrival.isoformat())
    page.get_by_label("Departure").fill((arrival - timedelta(days=1)).isoformat())
    page.get_by_label("Amount due").fill("420.00")
    page.get_by_role("button", name="Save").click()
    # Wrong dates: the error stands beside the field and nothing is saved.
    expect(page.get_by_text("Departure must be after arrival.")).to_be_visible()

    page.get_by_label("Departure").fill((arrival + timedelta(days=3)).isoformat())
    page.get_by_label("Channel").select_option("booking.com")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/manage/bookings/\d+$"))
    heading = page.get_by_role("heading", level=1).inner_text()
    reference = heading.split()[-1]
    assert re.fullmatch(r"\d{8}", reference)
    expect(page.get_by_text("420.00 EUR").first).to_be_visible()

    page.get_by_role("link", name="Bookings").click()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ana Guest")
    expect(row).to_contain_text("booking.com")


def _link_in(message) -> str:
    return re.search(r"(/l/\S+)", message.get_body(("plain",)).get_content()).group(1)


def test_tenant_signs_in_from_the_emailed_link(app, page, run_jobs, smtp_server):
    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        db.session.commit()

    page.goto("/alpha/tenant/")
    expect(page.get_by_role("heading", name="Sign in to your tenant portal")).to_be_visible()
    page.get_by_label("Your e-mail address").fill("tom@example.com")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    run_jobs()  # the worker delivers the mail to the SMTP server
    [email] = smtp_server.messages
    assert email["To"] == "Tom Tenant <tom@example.com>"
    page.goto(_link_in(email))
    expect(page.get_by_role("heading", name="Sign in to your portal as Tom Tenant")).to_be_visible()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/alpha/tenant/$"))
    expect(page.get_by_role("heading", name="Welcome, Tom Tenant")).to_be_visible()
    expect(page.get_by_text("Nothing to pay right now.")).to_be_visible()


def test_guest_pays_a_charge_from_the_emailed_link(app, page, run_jobs, smtp_server):
    from portal.links.delivery import send_link

    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        guest = f.person(a, "Ana Guest", "ana@example.com")
        charge = f.charge(a, booking=f.booking(a, guest=guest), amount="180.00", kind=f.ChargeKind.OPTION,
                          description="Airport transfer")
        send_link("pay", charge, guest)
        db.session.commit()
    run_jobs()
    [email] = smtp_server.messages
    smtp_server.clear()

    page.goto(_link_in(email))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pay the option of 180.00 EUR due 1 December 2026")
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    expect(page.get_by_text("We received 180.00 EUR for Airport transfer")).to_be_visible()
    page.go_back()
    page.reload()
    # A used link for a paid charge says so, and offers no fresh link.
    expect(page.get_by_text("This charge has been paid.")).to_be_visible()
    expect(page.get_by_role("button", name="E-mail me a fresh link")).to_have_count(0)

    run_jobs()
    [receipt] = smtp_server.messages
    assert receipt["Subject"] == "Receipt: Airport transfer"


def test_tenant_pays_rent_and_e_signs_a_notice(app, page):
    from portal.documents.models import Document, DocumentKind

    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        f.charge(a, lease=f.lease(a, tenant=tom), amount="950.00")
        db.session.add(Document(agency_id=a.id, person_id=tom.id, kind=DocumentKind.NOTICE, title="Rent review notice",
                                body="From 1 January the rent is 975.00 EUR.", requires_signature=True))
        db.session.commit()
        tom_id = tom.id
    browser_portal_sign_in(app, page, tom_id)
    expect(page.get_by_role("heading", name="Welcome, Tom Tenant")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pay rent of 950.00 EUR")
    page.get_by_label("Also pay future rent for this lease automatically").check()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("We received 950.00 EUR")).to_be_visible()
    expect(page.get_by_text("Future rent for this lease will be paid automatically")).to_be_visible()

    page.goto("/alpha/tenant/")
    expect(page.get_by_text("Nothing to pay right now.")).to_be_visible()
    page.get_by_role("link", name="Documents").click()
    page.get_by_role("link", name="Rent review notice").click()
    page.get_by_label("Type your full name").fill("Tom Tenant")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("Signed by Tom Tenant")).to_be_visible()


def test_guest_checks_in_and_sees_the_codes(app, page):
    from datetime import date

    from portal import clock

    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        unit = f.unit(a, f.prop(a, "Seafront"), "Apartment 2B")
        unit.access_code, unit.wifi_name, unit.wifi_password = "4711#", "Seafront-2B", "sunny-days"
        ana = f.person(a, "Ana Guest", "ana@example.com")
        today = clock.now().date()
        f.booking(a, unit, ana, arrival=today, departure=date.fromordinal(today.toordinal() + 3))
        db.session.commit()
        ana_id = ana.id
    browser_portal_sign_in(app, page, ana_id)
    page.get_by_role("link", name="Seafront · Apartment 2B").click()
    expect(page.get_by_text("4711#")).to_have_count(0)
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_text("Welcome! You are checked in.")).to_be_visible()
    expect(page.get_by_text("4711#")).to_be_visible()
    expect(page.get_by_text("sunny-days")).to_be_visible()


def test_an_excluded_document_stays_invisible(app, page):
    from portal.access.models import ItemEffect, ItemRule
    from portal.documents.models import Document, DocumentKind

    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        docs = [Document(agency_id=a.id, person_id=tom.id, kind=DocumentKind.LETTER, title=t, body=t)
                for t in ("House rules", "Letter from the attorney")]
        db.session.add_all(docs)
        db.session.flush()
        db.session.add(ItemRule(agency_id=a.id, capability="tenant.documents.view", item_type="Document",
                                item_id=docs[1].id, person_id=tom.id, effect=ItemEffect.EXCLUDE))
        db.session.commit()
        tom_id, hidden = tom.id, docs[1].id
    browser_portal_sign_in(app, page, tom_id)
    page.get_by_role("link", name="Documents").click()
    expect(page.get_by_role("link", name="House rules")).to_be_visible()
    expect(page.get_by_text("Letter from the attorney")).to_have_count(0)
    response = page.goto(f"/alpha/tenant/documents/{hidden}")
    assert response.status == 404
    expect(page.get_by_text("Letter from the attorney")).to_have_count(0)
