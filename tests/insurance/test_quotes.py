"""Insurance quotes end to end: staff add a quote in the back office; the occupant gets it at the SMTP server
with a one-time link; opening it changes nothing; accepting makes exactly one charge for the premium in its
currency, which is then paid through the pay flow; a used, withdrawn or expired quote's link says why;
twenty simultaneous presses make one charge; the portals show, accept and decline quotes."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.insurance.models import InsuranceQuote, QuoteStatus
from portal.links.models import ActionLink
from portal.money.models import Charge, ChargeKind, ChargeStatus, Payment
from tests.conftest import (
    FORM_TOKEN,
    csrf_token,
    press_at_once,
    press_link,
    send_due,
    signed_in_client,
    staff_client,
    token_of,
)


def add_quote(c, on: str, **data):
    page = c.get("/manage/insurance/new")
    fields = {"csrf_token": csrf_token(page.text), "occupancy": on, "insurer": "Seguros Sol",
              "product": "Stay Protect", "cover": "Cancellation up to 2,000 USD; damage up to 500 USD; excess 50 USD.",
              "premium": "45.50", "currency": "EUR", "valid_until": (date.today() + timedelta(days=7)).isoformat(),
              **data}
    return c.post("/manage/insurance/new", data=fields)


def quote_mail(smtp_server, address: str):
    found = [m for m in smtp_server.messages if address in m["To"] and m["Subject"].startswith("Insurance for")]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in smtp_server.messages]
    return found[0]


def state(app) -> dict:
    with app.app_context():
        quotes = db.session.scalars(select(InsuranceQuote).execution_options(all_agencies=True)).all()
        charges = db.session.scalars(select(Charge).where(Charge.slot.like("insurance:%"))
                                     .execution_options(all_agencies=True)).all()
        return {"quotes": [(q.id, q.status, q.version, q.charge_id, q.decided_via) for q in quotes],
                "charges": [(c.id, c.amount, c.currency, c.kind, c.status, c.booking_id, c.lease_id, c.person_id,
                             c.due_date) for c in charges],
                "payments": db.session.scalar(select(func.count(Payment.id)).execution_options(all_agencies=True))}


def test_the_guest_accepts_from_the_mail_and_pays_the_premium(app, occupants, login, run_jobs, smtp_server):
    c = staff_client(app, login)
    assert add_quote(c, f"booking:{occupants['booking']}").status_code == 302
    send_due(app, run_jobs)
    mail = quote_mail(smtp_server, "gina@example.com")
    assert mail["Subject"] == "Insurance for 2B: Stay Protect (45.50 EUR)"
    assert "Seguros Sol · Stay Protect for 45.50 EUR" in mail.get_body(("plain",)).get_content()
    token = token_of(mail)
    guest = app.test_client()
    before = state(app)
    page = guest.get(f"/l/{token}")
    assert page.status_code == 200 and "45.50 EUR" in page.text and "Cancellation up to 2,000 USD" in page.text
    assert state(app) == before and before["charges"] == []  # opening changes nothing
    done = press_link(guest, token, choice="accept")
    assert done.status_code == 200 and "Quote accepted" in done.text
    after = state(app)
    [(qid, status, _, charge_id, via)] = after["quotes"]
    assert status == QuoteStatus.ACCEPTED and via == "link"
    # Exactly one charge: the premium, in the quote's currency, on the booking, the guest's, due at arrival.
    assert after["charges"] == [(charge_id, Decimal("45.50"), "EUR", ChargeKind.FEE, ChargeStatus.OPEN,
                                 occupants["booking"], None, occupants["guest"], occupants["arrival"])]
    # A second press says the link was used, and makes nothing.
    again = guest.post(f"/l/{token}", data={"form_token": FORM_TOKEN.search(page.text).group(1), "choice": "accept"})
    assert again.status_code == 410 and "already accepted" in again.text
    assert state(app) == after
    # The page goes straight on to paying it: the pay link's page, then its button.
    pay_token = re.search(r'href="[^"]*/l/([^"]+)"[^>]*>Pay 45.50 EUR now', done.text).group(1)
    # The pay page names the charge by its description, not by its kind.
    pay_page = guest.get(f"/l/{pay_token}").text
    assert "Pay Insurance: Seguros Sol · Stay Protect of 45.50 EUR due" in pay_page and "Pay fee of" not in pay_page
    paid = press_link(guest, pay_token)
    assert paid.status_code == 200 and "We received 45.50 EUR" in paid.text
    final = state(app)
    assert final["payments"] == 1 and final["charges"][0][4] == ChargeStatus.PAID
    # The guest's portal shows the quote accepted and its premium paid.
    portal = signed_in_client(app, occupants["guest"]).get(f"/alpha/guest/insurance/{qid}")
    assert "accepted" in portal.text and "badge-paid" in portal.text


def test_twenty_simultaneous_acceptances_make_one_charge(app, occupants, live_server, login, run_jobs, smtp_server):
    c = staff_client(app, login)
    assert add_quote(c, f"lease:{occupants['lease']}", currency="EUR", premium="120").status_code == 302
    send_due(app, run_jobs)
    token = token_of(quote_mail(smtp_server, "tom@example.com"))
    codes = press_at_once(live_server, token, choice="accept")
    assert sorted(codes).count(200) == 1 and all(code in (409, 410) for code in codes if code != 200), codes
    after = state(app)
    assert len(after["charges"]) == 1 and after["charges"][0][1:3] == (Decimal("120.00"), "EUR")
    assert after["charges"][0][6] == occupants["lease"]
    # The tenant's portal, after the link: the quote is accepted, and accepting again there is refused.
    tenant = signed_in_client(app, occupants["tenant"])
    qid = after["quotes"][0][0]
    page = tenant.get(f"/alpha/tenant/insurance/{qid}")
    assert "Accept the quote" not in page.text and "Pay 120.00 EUR" in page.text
    refused = tenant.post(f"/alpha/tenant/insurance/{qid}/accept", data={"csrf_token": csrf_token(page.text)})
    assert refused.status_code == 422 and "already accepted" in refused.text
    assert state(app) == after


def test_withdrawn_in_the_back_office_the_link_says_so(app, occupants, login, run_jobs, smtp_server):
    c = staff_client(app, login)
    assert add_quote(c, f"booking:{occupants['booking']}").status_code == 302
    send_due(app, run_jobs)
    token = token_of(quote_mail(smtp_server, "gina@example.com"))
    qid = state(app)["quotes"][0][0]
    page = c.get(f"/manage/insurance/{qid}")
    assert c.post(f"/manage/insurance/{qid}/withdraw",
                  data={"csrf_token": csrf_token(page.text), "reason": "Wrong product"}).status_code == 302
    dead = app.test_client().get(f"/l/{token}")
    assert dead.status_code == 410 and "This quote was withdrawn" in dead.text
    assert state(app)["charges"] == [] and state(app)["quotes"][0][1] == QuoteStatus.WITHDRAWN
    again = c.post(f"/manage/insurance/{qid}/withdraw", data={"csrf_token": csrf_token(page.text), "reason": ""})
    assert again.status_code == 422 and "can no longer be withdrawn" in again.text


def test_an_expired_quote_cannot_be_accepted_and_its_link_says_why(app, occupants, login, run_jobs, smtp_server):
    c = staff_client(app, login)
    assert add_quote(c, f"lease:{occupants['lease']}", valid_until=date.today().isoformat()).status_code == 302
    send_due(app, run_jobs)
    token = token_of(quote_mail(smtp_server, "tom@example.com"))
    qid = state(app)["quotes"][0][0]
    with clock.frozen_at(datetime.now().astimezone() + timedelta(days=2)):
        tenant = signed_in_client(app, occupants["tenant"])
        dead = app.test_client().get(f"/l/{token}")
        assert dead.status_code == 410 and "This quote expired" in dead.text
        page = tenant.get(f"/alpha/tenant/insurance/{qid}")
        assert "expired" in page.text and "Accept the quote" not in page.text
        refused = tenant.post(f"/alpha/tenant/insurance/{qid}/accept", data={"csrf_token": csrf_token(page.text)})
        assert refused.status_code == 422 and "This quote expired" in refused.text
        staff = staff_client(app, login)  # a new day, a new sign-in
        expired = staff.get("/manage/insurance?status=expired")
        assert expired.status_code == 200 and "Seguros Sol · Stay Protect" in expired.text
        assert "Seguros Sol" not in staff.get("/manage/insurance?status=open").text
    assert state(app)["charges"] == [] and state(app)["quotes"][0][1] == QuoteStatus.OPEN


def test_the_guest_declines_in_the_portal_and_the_link_dies(app, occupants, login, run_jobs, smtp_server):
    c = staff_client(app, login)
    assert add_quote(c, f"booking:{occupants['booking']}").status_code == 302
    send_due(app, run_jobs)
    token = token_of(quote_mail(smtp_server, "gina@example.com"))
    qid = state(app)["quotes"][0][0]
    guest = signed_in_client(app, occupants["guest"])
    assert "Insurance quote: Seguros Sol · Stay Protect" in guest.get("/alpha/guest/").text
    page = guest.get(f"/alpha/guest/insurance/{qid}")
    r = guest.post(f"/alpha/guest/insurance/{qid}/decline", data={"csrf_token": csrf_token(page.text),
                                                                  "reason": "I have travel insurance"})
    assert r.status_code == 302
    assert state(app)["quotes"][0][1] == QuoteStatus.DECLINED and state(app)["charges"] == []
    dead = app.test_client().get(f"/l/{token}")
    assert dead.status_code == 410 and "This quote was declined" in dead.text
    # Another person, the other portal: not there.
    other = signed_in_client(app, occupants["other"])
    for url in (f"/alpha/guest/insurance/{qid}", f"/alpha/tenant/insurance/{qid}"):
        assert other.get(url).status_code == 404
    assert other.post(f"/alpha/guest/insurance/{qid}/accept",
                      data={"csrf_token": csrf_token(other.get("/alpha/guest/").text)}).status_code == 404
    assert state(app)["charges"] == []


@pytest.mark.parametrize(("change", "message"), [
    ({"occupancy": ""}, "Choose either a lease or a booking."),
    ({"occupancy": "booking:999999"}, "Not a valid choice"),
    ({"premium": "0"}, "The premium must be more than zero."),
    ({"premium": "-5"}, "The premium must be more than zero."),
    ({"premium": "1000000000000"}, "That amount is too large."),
    ({"currency": "USD"}, "Quote in EUR, the currency of this booking and its charges."),
    ({"premium": "12.345"}, "decimal"),
    ({"premium": "abc"}, ""),
    ({"currency": "XXX"}, "Not a valid choice"),
    ({"valid_until": (date.today() - timedelta(days=1)).isoformat()}, "valid until today or later"),
    ({"insurer": ""}, "This field is required."),
    ({"cover": ""}, "This field is required."),
])
def test_back_office_bad_input_is_a_form_error_and_nothing_is_kept(app, occupants, login, change, message):
    c = staff_client(app, login)
    r = add_quote(c, f"booking:{occupants['booking']}", **change)
    assert r.status_code == 422 and message in r.text, r.text[-2000:]
    with app.app_context():
        for model in (InsuranceQuote, ActionLink):
            assert db.session.scalar(select(func.count()).select_from(model)
                                     .execution_options(all_agencies=True)) == 0, model


def test_the_list_filters_and_the_booking_page_lists_its_quotes(app, occupants, login):
    c = staff_client(app, login)
    assert add_quote(c, f"booking:{occupants['booking']}").status_code == 302
    assert add_quote(c, f"lease:{occupants['lease']}", product="Contents Cover", currency="EUR").status_code == 302
    assert "Stay Protect" in c.get("/manage/insurance").text
    leases = c.get("/manage/insurance?on=lease&status=open").text
    assert "Contents Cover" in leases and "Stay Protect" not in leases
    assert "No insurance quotes match" in c.get("/manage/insurance?status=accepted").text
    booking = c.get(f"/manage/bookings/{occupants['booking']}").text
    assert "Stay Protect" in booking and "Contents Cover" not in booking


def test_the_operation_itself_bounds_the_premium_and_fixes_the_currency(app, occupants):
    """Not only the form: a caller of create_quote gets the same refusals (and a missing currency is the agency's)."""
    from portal.agencies.models import StaffUser
    from portal.insurance import operations as ops
    from portal.operations import FieldError

    with app.app_context():
        staff = db.session.scalar(select(StaffUser).execution_options(all_agencies=True))
        db.scope(db.session, occupants["agency"])
        data = {"booking_id": occupants["booking"], "insurer": "Sol", "product": "Protect", "cover": "All.",
                "valid_until": date.today() + timedelta(days=3)}
        for premium, currency, message in [
            (Decimal("1000000000000"), "EUR", "That amount is too large."),
            (Decimal("-1"), "EUR", "The premium must be more than zero."),
            (Decimal("10"), "GBP", "Quote in EUR, the currency of this booking and its charges."),
        ]:
            with pytest.raises(FieldError) as err:
                ops.create_quote(occupants["agency"], {**data, "premium": premium, "currency": currency}, staff)
            assert err.value.message == message
        quote = ops.create_quote(occupants["agency"], {**data, "premium": Decimal("10")}, staff)
        assert quote.currency == "EUR"
        db.session.rollback()


def test_the_guests_booking_page_lists_the_stays_notices_and_quotes(app, occupants, login):
    from tests.violations.test_violations import record

    c = staff_client(app, login)
    guest = signed_in_client(app, occupants["guest"])
    url = f"/alpha/guest/bookings/{occupants['booking']}"
    assert "Notices and insurance" not in guest.get(url).text  # nothing yet: no empty section
    assert add_quote(c, f"booking:{occupants['booking']}").status_code == 302
    assert record(c, f"booking:{occupants['booking']}", rule="No parties").status_code == 302
    assert add_quote(c, f"lease:{occupants['lease']}", product="Contents Cover").status_code == 302  # the tenant's
    with app.app_context():
        quote_id = db.session.scalar(select(InsuranceQuote.id).where(InsuranceQuote.booking_id == occupants["booking"])
                                     .execution_options(all_agencies=True))
        from portal.violations.models import Violation
        notice_id = db.session.scalar(select(Violation.id).execution_options(all_agencies=True))
    page = guest.get(url).text
    assert "Notices and insurance" in page
    assert f'href="/alpha/guest/violations/{notice_id}"' in page and "Violation notice: Noise: No parties" in page
    assert f'href="/alpha/guest/insurance/{quote_id}"' in page and "Seguros Sol · Stay Protect" in page
    assert "waiting for your answer" in page and "Contents Cover" not in page
