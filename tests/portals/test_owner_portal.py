"""The owner portal's home and occupants pages (issue 13): what's new since the previous visit (exactly
that, only theirs), the visit noted at most once per ten minutes, occupancy against hand-counted nights,
the bookings and leases of their units as the engine allows (A1/A2/A3), occupants' details as the
capabilities allow, their occupants' agreements, and the management agreement to sign."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.access.models import ItemEffect, OverrideEffect
from portal.access.operations import set_item_rule, set_override
from portal.agencies.models import Agency
from portal.bookings.models import Booking, BookingStatus, Channel, Lease, LeaseStatus
from portal.bookings.operations import save_lease
from portal.documents.models import Document, DocumentKind, Signature
from portal.messages.models import Message, MessageStatus
from portal.money.models import Charge
from portal.money.operations import pay
from portal.owners.occupancy import occupancy
from portal.owners.queries import units_of
from portal.people.models import Person, PortalAccount, PortalRole
from portal.properties.models import Unit
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrder
from tests import factories as f
from tests.conftest import csrf_token, signed_in_client
from tests.portals import owner_portal_world as world
from tests.portals.owner_portal_world import MARCH

HOME = "/alpha/owner/"


@pytest.fixture
def w(app):
    with app.app_context(), clock.frozen_at(MARCH):
        return world.build()


def _get(app, model, obj_id):
    return db.session.scalar(select(model).where(model.id == obj_id).execution_options(all_agencies=True))


def _account(app, person_id) -> PortalAccount:
    with app.app_context():
        return db.session.scalar(select(PortalAccount).where(PortalAccount.person_id == person_id,
                                                             PortalAccount.role == PortalRole.OWNER)
                                 .execution_options(all_agencies=True))


def _news(html: str) -> str:
    """The what's-new part of the page, without its form's random CSRF token (which may spell "3C")."""
    part = html.split('id="whats-new"')[1].split('id="waiting-section"')[0]
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', part)


def _count(html: str) -> int:
    return int(re.search(r'id="news-count"[^>]*>(\d+)<', html).group(1))


def _happenings(app, w):
    """Hours after Olga's first visit: what happens on her units, on Otto's, and at Beta."""
    with app.app_context():
        db.scope(db.session, w["agency"])
        a = db.session.get(Agency, w["agency"])
        olga, otto = db.session.get(Person, w["olga"]), db.session.get(Person, w["otto"])
        seafront, hillside = db.session.get(Unit, w["seafront"]), db.session.get(Unit, w["hillside"])
        new_stay = f.booking(a, seafront, f.person(a, "Nina New", "nina@example.com"),
                             arrival=date(2026, 4, 10), departure=date(2026, 4, 12), channel=Channel.BOOKING_COM)
        f.booking(a, hillside, f.person(a, "Oscar Other", "oscar@example.com"),
                  arrival=date(2026, 4, 10), departure=date(2026, 4, 12))
        charge = db.session.scalar(select(Charge).where(Charge.booking_id == w["stay"]))
        pay(charge, charge.person, Decimal("500.00"), channel="portal")
        order = ops.submit_request(olga, seafront, "repair", "Broken window", "Cracked.")
        ops.submit_request(otto, hillside, "repair", "Otto's roof", "Leaks.")
        ops.triage(db.session.get(WorkOrder, w["old_order"]), ops.SYSTEM)  # submitted -> triaged
        db.session.add_all([
            Document(agency_id=a.id, person_id=olga.id, kind=DocumentKind.LETTER, title="Tax letter", body="x"),
            Document(agency_id=a.id, person_id=otto.id, kind=DocumentKind.LETTER, title="Otto's letter", body="x"),
            Message(agency_id=a.id, message_id="<m1@x>", person_id=olga.id, sender="a@x", to="olga@x",
                    subject="Your March update", text_body="Hi", status=MessageStatus.SENT),
            Message(agency_id=a.id, message_id="<m2@x>", person_id=otto.id, sender="a@x", to="otto@x",
                    subject="Otto's update", text_body="Hi", status=MessageStatus.SENT),
        ])
        db.session.flush()
        db.scope(db.session, w["beta"])
        b = db.session.get(Agency, w["beta"])
        f.booking(b, db.session.get(Unit, w["beta_unit"]), f.person(b, "Beta Late", "late@example.com"),
                  arrival=date(2026, 4, 1), departure=date(2026, 4, 3))
        db.session.commit()
        return new_stay.id, order.id


def test_whats_new_lists_exactly_what_happened_on_her_units_since_her_previous_visit(app, w):
    with clock.frozen_at(MARCH) as travel:
        olga = signed_in_client(app, w["olga"])
        first = olga.get(HOME).text
        assert "Welcome, Olga Owner" in first and "From your next visit on" in first
        assert 'id="news-count"' not in first
        seen = _account(app, w["olga"]).last_seen_at
        assert seen == MARCH and _account(app, w["olga"]).previous_seen_at is None

        travel.advance(minutes=5)
        assert "From your next visit on" in olga.get(HOME).text  # the same visit: still the welcome
        travel.advance(hours=3)
        new_stay, order = _happenings(app, w)
        travel.advance(hours=1)
        # A new sign-in begins a new visit: everything since she last looked.
        olga = signed_in_client(app, w["olga"])
        page = olga.get(HOME).text
    assert "Welcome back, Olga Owner" in page
    news = _news(page)
    assert _count(page) == 6, news
    for expected in ("New booking", "booking.com", "Payment received", "500.00", "New work order: Broken window",
                     "Dripping shower: Triaged", "New document: Tax letter", "Your March update"):
        assert expected in news, expected
    for foreign in ("Oscar", "Otto", "Beta", "3C"):
        assert foreign not in news, foreign
    assert f'href="/alpha/owner/bookings/{new_stay}"' in news and f'href="/alpha/owner/orders/{order}"' in news
    assert 'href="/alpha/owner/messages"' in news
    account = _account(app, w["olga"])
    assert account.previous_seen_at == MARCH and account.last_seen_at == MARCH + timedelta(hours=4, minutes=5)


def test_the_visit_is_written_at_most_once_per_ten_minutes_and_mark_as_seen_empties_the_list(app, w):
    with clock.frozen_at(MARCH) as travel:
        olga = signed_in_client(app, w["olga"])
        olga.get(HOME)
        travel.advance(hours=3)
        _happenings(app, w)
        travel.advance(hours=1)
        olga = signed_in_client(app, w["olga"])
        assert _count(olga.get(HOME).text) == 6
        visit = _account(app, w["olga"]).last_seen_at
        travel.advance(minutes=5)
        olga.get("/alpha/owner/bookings")
        assert _count(olga.get(HOME).text) == 6
        assert _account(app, w["olga"]).last_seen_at == visit  # no write within ten minutes
        olga.head(HOME)
        travel.advance(minutes=6)
        olga.head(HOME)  # a HEAD never writes
        assert _account(app, w["olga"]).last_seen_at == visit
        assert _count(olga.get(HOME).text) == 6  # a later look in the same visit keeps the mark
        assert _account(app, w["olga"]).last_seen_at == visit + timedelta(minutes=11)
        # Mark as seen needs its CSRF token, then empties the list.
        assert olga.post("/alpha/owner/seen", data={}).status_code == 400
        assert _count(olga.get(HOME).text) == 6
        r = olga.post("/alpha/owner/seen", data={"csrf_token": csrf_token(olga.get(HOME).text)})
        assert r.status_code == 302
        page = olga.get(HOME).text
    assert _count(page) == 0 and "Nothing new since your last visit." in page


def _occupancy(app, w, today):
    with app.app_context():
        db.scope(db.session, w["agency"])
        olga = db.session.get(Person, w["olga"])
        return {str(u.unit): [(m.first, m.booked, m.available) for m in u.months]
                for u in occupancy(olga, units_of(olga), today=today)}


def test_occupancy_counts_nights_by_the_agencys_days_across_month_edges(app, w):
    with app.app_context():
        db.scope(db.session, w["agency"])
        seafront = db.session.get(Booking, w["stay"]).unit
        guest = db.session.get(Person, w["gus"])
        a = db.session.get(Agency, w["agency"])
        # 27 -> 28 Mar: one night in March, the night before the stay of 28 Mar - 2 Apr; a cancelled one counts
        # nothing; one across April's end.
        f.booking(a, seafront, guest, arrival=date(2026, 3, 27), departure=date(2026, 3, 28))
        f.booking(a, seafront, guest, arrival=date(2026, 3, 10), departure=date(2026, 3, 20),
                  status=BookingStatus.CANCELLED)
        f.booking(a, seafront, guest, arrival=date(2026, 4, 29), departure=date(2026, 5, 3))
        db.session.commit()
    # March: 27 + the stay's 28, 29, 30, 31 = 5 nights; April: the stay's 1st + 29th, 30th = 3.
    # The lease on Old Town from 15 March: 17 nights of March, all 30 of April.
    got = _occupancy(app, w, date(2026, 3, 10))
    assert got == {"Seafront · 1A": [(date(2026, 3, 1), 5, 31), (date(2026, 4, 1), 3, 30)],
                   "Old Town · 2B": [(date(2026, 3, 1), 17, 31), (date(2026, 4, 1), 30, 30)]}
    # 31 March 23:30 UTC is already 1 April in Berlin (summer time since the 29th): this month is April.
    with clock.frozen_at(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)), app.app_context():
        db.scope(db.session, w["agency"])
        olga = db.session.get(Person, w["olga"])
        months = [m.first for m in occupancy(olga, units_of(olga))[0].months]
    assert months == [date(2026, 4, 1), date(2026, 5, 1)]
    may = _occupancy(app, w, date(2026, 4, 5))["Seafront · 1A"][1]
    assert may == (date(2026, 5, 1), 2, 31)


def test_the_home_page_draws_occupancy_with_its_figures_as_text(app, w):
    with clock.frozen_at(MARCH):
        page = signed_in_client(app, w["olga"]).get(HOME).text
    svg = page.split('<svg class="chart occupancy-chart"')[1].split("</svg>")[0]
    assert "<title" in svg and "Occupancy of your units, March 2026 and April 2026" in svg
    assert "Seafront · 1A: March 2026 4 of 31 nights (13 %); April 2026 1 of 30 nights (3 %)." in svg
    assert "Old Town · 2B: March 2026 17 of 31 nights (55 %)" in svg and "17/31" in svg


def test_bookings_and_leases_lists_show_her_units_only_and_obey_item_rules(app, w):
    with clock.frozen_at(MARCH):
        olga = signed_in_client(app, w["olga"])
        bookings = olga.get("/alpha/owner/bookings").text
        with app.app_context():
            stay = _get(app, Booking, w["stay"])
            reference, otto_ref = stay.reference, _get(app, Booking, w["otto_stay"]).reference
        assert reference in bookings and "Gus Guest" in bookings and "airbnb" in bookings
        assert otto_ref not in bookings and "Hal Guest" not in bookings
        leases = olga.get("/alpha/owner/leases").text
        assert f"Lease #{w['lease']}" in leases and "Tina Tenant" in leases and "950.00" in leases
        # A3: this booking hidden from Olga: not listed, its page a 404, not counted in the chart.
        with app.app_context():
            db.scope(db.session, w["agency"])
            set_item_rule(w["agency"], "owner.bookings.view", _get(app, Booking, w["stay"]), w["olga"],
                          ItemEffect.EXCLUDE)
            db.session.commit()
        assert reference not in olga.get("/alpha/owner/bookings").text
        assert olga.get(f"/alpha/owner/bookings/{w['stay']}").status_code == 404
        assert "Seafront · 1A: March 2026 0 of 31 nights" in olga.get(HOME).text
        assert olga.get(f"/alpha/owner/bookings/{w['otto_stay']}").status_code == 404
        assert olga.get(f"/alpha/owner/leases/{w['lease']}").status_code == 200
        # A2: leases switched off for Olga: the list is the friendly 403, the menu still works.
        with app.app_context():
            db.scope(db.session, w["agency"])
            set_override(w["agency"], w["olga"], "owner.leases.view", OverrideEffect.REVOKE)
            db.session.commit()
        r = olga.get("/alpha/owner/leases")
        assert r.status_code == 403
        assert olga.get(f"/alpha/owner/leases/{w['lease']}").status_code in (403, 404)
        assert olga.get(HOME).status_code == 200


def test_occupants_details_follow_the_capabilities(app, w):
    with clock.frozen_at(MARCH):
        olga = signed_in_client(app, w["olga"])
        page = olga.get(f"/alpha/owner/bookings/{w['stay']}").text
        assert "Gus Guest" in page and "gus@example.com" not in page and "1234567" not in page  # contact: off
        with app.app_context():
            db.scope(db.session, w["agency"])
            set_override(w["agency"], w["olga"], "owner.occupants.contact", OverrideEffect.GRANT)
            db.session.commit()
        page = olga.get(f"/alpha/owner/bookings/{w['stay']}").text
        assert "gus@example.com" in page and "+49 30 1234567" in page
        with app.app_context():
            db.scope(db.session, w["agency"])
            set_override(w["agency"], w["olga"], "owner.occupants.view", OverrideEffect.REVOKE)
            db.session.commit()
        page = olga.get(f"/alpha/owner/bookings/{w['stay']}").text
        listed = olga.get("/alpha/owner/bookings").text
        lease = olga.get(f"/alpha/owner/leases/{w['lease']}").text
    assert "Gus Guest" not in page and "gus@example.com" not in page and "A guest" in page
    assert "Gus Guest" not in listed and "Lease agreement" not in lease and "Tina Tenant" not in lease


def test_her_occupants_agreements_are_shared_with_her_read_only(app, w):
    with clock.frozen_at(MARCH):
        olga, otto = signed_in_client(app, w["olga"]), signed_in_client(app, w["otto"])
        lease = olga.get(f"/alpha/owner/leases/{w['lease']}").text
        assert "Lease agreement" in lease and "not signed yet" in lease and "private letter" not in lease
        docs = olga.get("/alpha/owner/documents").text
        assert "Shared with you" in docs and "Lease agreement" in docs and "for Tina Tenant" in docs
        assert "private letter" not in docs
        doc = olga.get(f"/alpha/owner/documents/{w['agreement']}")
        assert doc.status_code == 200 and "Tina rents Old Town 2B." in doc.text
        assert "Type your full name" not in doc.text
        token = csrf_token(olga.get(HOME).text)
        r = olga.post(f"/alpha/owner/documents/{w['agreement']}/sign", data={"csrf_token": token,
                                                                            "typed_name": "Olga Owner"})
        assert r.status_code in (403, 404, 422)
        assert otto.get(f"/alpha/owner/documents/{w['agreement']}").status_code == 404
        assert olga.get(f"/alpha/owner/documents/{w['letter']}").status_code == 404
        # A3 on the lease hides its agreement too.
        with app.app_context():
            db.scope(db.session, w["agency"])
            set_item_rule(w["agency"], "owner.leases.view", _get(app, Lease, w["lease"]), w["olga"],
                          ItemEffect.EXCLUDE)
            db.session.commit()
        assert olga.get(f"/alpha/owner/documents/{w['agreement']}").status_code == 404
        assert "Lease agreement" not in olga.get("/alpha/owner/documents").text
    with app.app_context():
        assert db.session.scalar(select(Signature.id).execution_options(all_agencies=True)) is None


def test_the_management_agreement_to_sign_is_on_the_home_page_until_signed(app, w):
    with clock.frozen_at(MARCH), app.app_context():
        db.scope(db.session, w["agency"])
        olga = db.session.get(Person, w["olga"])
        doc_id = world.management_agreement(db.session.get(Agency, w["agency"]), olga).id
        db.session.commit()
    with clock.frozen_at(MARCH + timedelta(hours=1)):
        c = signed_in_client(app, w["olga"])
        home = c.get(HOME).text
        assert "Management agreement to sign" in home and f'href="/alpha/owner/documents/{doc_id}"' in home
        page = c.get(f"/alpha/owner/documents/{doc_id}").text
        sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', page).group(1)
        r = c.post(f"/alpha/owner/documents/{doc_id}/sign", data={"csrf_token": csrf_token(page), "sha256": sha,
                                                                  "typed_name": "Olga Owner"},
                   headers={"User-Agent": "OwnerBrowser/1.0"})
        assert r.status_code == 302
        assert "Management agreement to sign" not in c.get(HOME).text
    with app.app_context():
        sig = db.session.scalar(select(Signature).execution_options(all_agencies=True))
        doc = _get(app, Document, doc_id)
        assert (sig.person_id, sig.typed_name, sig.document_sha256, sig.user_agent) == (
            w["olga"], "Olga Owner", doc.sha256, "OwnerBrowser/1.0")
        assert sig.ip == "127.0.0.1" and sig.signed_at == MARCH + timedelta(hours=1)


def test_another_lease_of_hers_starting_later_shows_in_the_chart_and_lists(app, w):
    with clock.frozen_at(MARCH), app.app_context():
        db.scope(db.session, w["agency"])
        seafront = db.session.get(Booking, w["stay"]).unit
        save_lease(None, w["agency"], {"unit_id": seafront.id, "tenant_id": w["tina"], "status": LeaseStatus.DRAFT,
                                       "start_date": date(2026, 4, 1), "end_date": date(2026, 9, 30),
                                       "rent": Decimal("700.00"), "deposit": Decimal(0), "rent_day": 1})
        db.session.commit()
    # A draft lease occupies nothing yet, but is listed among the current ones.
    assert _occupancy(app, w, date(2026, 3, 10))["Seafront · 1A"][1] == (date(2026, 4, 1), 1, 30)
    with clock.frozen_at(MARCH):
        assert "700.00" in signed_in_client(app, w["olga"]).get("/alpha/owner/leases").text


def test_the_home_page_shows_her_balance_and_her_last_sent_statement(app, w):
    from portal.accounting.models import Statement, StatementStatus

    with clock.frozen_at(MARCH + timedelta(hours=3)):
        _happenings(app, w)  # Gus pays the 500.00 of his stay on her Seafront 1A: her only income
    with app.app_context():
        db.scope(db.session, w["agency"])
        db.session.add_all([
            Statement(agency_id=w["agency"], owner_id=w["olga"], currency="EUR", month=date(2026, 2, 1),
                      opening=Decimal(0), closing=Decimal("450.00"), status=StatementStatus.SENT),
            Statement(agency_id=w["agency"], owner_id=w["olga"], currency="EUR", month=date(2026, 3, 1),
                      opening=Decimal("450.00"), closing=Decimal("950.00"), status=StatementStatus.DRAFT),
            Statement(agency_id=w["agency"], owner_id=w["otto"], currency="EUR", month=date(2026, 3, 1),
                      opening=Decimal(0), closing=Decimal("123.45"), status=StatementStatus.SENT),
        ])
        db.session.commit()
    with clock.frozen_at(MARCH + timedelta(hours=4)):
        olga = signed_in_client(app, w["olga"])
        page = olga.get(HOME).text
        balance = page.split('class="figure-balance"')[1].split("</li>")[0]
        statement = page.split('class="figure-statement"')[1].split("</li>")[0]
        # The balance: February's sent closing (450.00) and what the next statement posts (the 500.00).
        assert "950.00" in balance
        assert "February 2026" in statement and "450.00" in statement and "950.00" not in statement
        assert "123.45" not in page
        with app.app_context():
            db.scope(db.session, w["agency"])
            set_override(w["agency"], w["olga"], "owner.statements.view", OverrideEffect.REVOKE)
            db.session.commit()
        page = olga.get(HOME).text
    assert "No statement yet" in page and "450.00" not in page and "500.00 EUR</strong>" not in page


def test_staff_put_an_agreement_on_a_lease_only_for_its_tenant_and_then_the_owner_sees_it(app, w, client, login):
    assert login("manager@alpha.example", f.PASSWORD, client).status_code == 302
    url = "/manage/documents/new"
    base = {"kind": "agreement", "title": "Parking annex", "body": "Space 12.", "requires_signature": "y"}

    def post(**data):
        return client.post(url, data={"csrf_token": csrf_token(client.get(url).text), **base, **data})

    def count():
        with app.app_context():
            return db.session.scalar(select(func.count(Document.id)).execution_options(all_agencies=True))

    before = count()
    # Not Gus's lease; both a lease and a booking; a lease of another agency: refused beside the field, nothing kept.
    for data, message in (({"person_id": w["gus"], "lease_id": w["lease"]}, "not the tenancy of the person"),
                          ({"person_id": w["gus"], "lease_id": w["lease"], "booking_id": w["stay"]}, "not both"),
                          ({"person_id": w["gus"], "booking_id": w["beta_stay"]}, "Not a valid choice")):
        r = post(**data)
        assert r.status_code == 422 and message in r.text.replace("&#39;", "'"), (data, r.status_code)
        assert count() == before
    r = post(person_id=w["tina"], lease_id=w["lease"])
    assert r.status_code == 302 and count() == before + 1
    detail = client.get(r.headers["Location"]).text
    assert f"Lease #{w['lease']}" in detail and "the unit's owners see it" in detail
    with clock.frozen_at(MARCH):
        lease = signed_in_client(app, w["olga"]).get(f"/alpha/owner/leases/{w['lease']}").text
    assert "Parking annex" in lease


def test_the_owner_menu_holds_every_owner_page(app, w):
    with clock.frozen_at(MARCH):
        page = signed_in_client(app, w["olga"]).get("/alpha/owner/leases").text
    menu = page.split('<ul class="nav">')[1].split("</ul>")[0]
    for path in ("/alpha/owner/", "/alpha/owner/bookings", "/alpha/owner/leases", "/alpha/owner/orders",
                 "/alpha/owner/documents", "/alpha/owner/messages"):
        assert f'href="{path}"' in menu, path
    assert 'href="/alpha/owner/leases" aria-current="page"' in menu


def test_without_bookings_and_leases_there_is_no_occupancy_chart(app, w):
    for name in ("owner.bookings.view", "owner.leases.view"):
        with app.app_context():
            db.scope(db.session, w["agency"])
            set_override(w["agency"], w["olga"], name, OverrideEffect.REVOKE)
            db.session.commit()
        with clock.frozen_at(MARCH):
            page = signed_in_client(app, w["olga"]).get(HOME).text
        # Leases alone still fill the chart; with neither there is none rather than one of zeros.
        assert ("occupancy-chart" in page) == (name == "owner.bookings.view"), name
    assert "Nothing waits for you." in page  # the rest of the page is there


def test_sign_in_mails_are_never_news_nor_messages_and_her_own_contribution_is_a_payment(app, w):
    from portal.accounting.contributions import pay_contribution, request_contribution
    from portal.links.delivery import send_link

    with clock.frozen_at(MARCH) as travel:
        olga = signed_in_client(app, w["olga"])
        olga.get(HOME)
        travel.advance(hours=3)
        with app.app_context():
            db.scope(db.session, w["agency"])
            person = db.session.get(Person, w["olga"])
            signin = send_link("login", person, person)
            pay_contribution(request_contribution(person, Decimal("2614.25"), "EUR", "Roof fund"), person)
            db.session.flush()
            for m in db.session.scalars(select(Message).where(Message.person_id == person.id)):
                m.status = MessageStatus.SENT  # as delivered
            receipt = db.session.scalar(select(Message).where(Message.about_type == "contribution"))
            db.session.commit()
            assert signin.subject == "Your sign-in link" and receipt is not None
        travel.advance(hours=1)
        olga = signed_in_client(app, w["olga"])
        page = olga.get(HOME).text
        messages = olga.get("/alpha/owner/messages").text
    news = _news(page)
    assert "sign-in link" not in news and "Receipt" not in news, news
    assert _count(page) == 1, news
    assert "Money you sent was received" in news and "2,614.25" in news and "Roof fund" in news
    assert 'class="news-payment"' in news and 'href="/alpha/owner/money"' in news
    assert "sign-in link" not in messages and "Receipt" in messages


def test_a_portal_404_leads_back_to_her_portals_home_not_the_chooser(app, w):
    olga = signed_in_client(app, w["olga"])
    for path in ("/alpha/owner/orders/999999", "/alpha/owner/nowhere", "/alpha/nowhere"):
        page = olga.get(path)
        assert page.status_code == 404, path
        assert '<a href="/alpha/owner/">Back to your portal</a>' in page.text, path
    with app.app_context():  # with a second portal: the home of the portal the error was met in
        db.scope(db.session, w["agency"])
        db.session.add(PortalAccount(agency_id=w["agency"], person_id=w["olga"], role=PortalRole.TENANT))
        db.session.commit()
    olga = signed_in_client(app, w["olga"])
    assert '<a href="/alpha/tenant/">Back to your portal</a>' in olga.get("/alpha/tenant/nowhere").text
    assert '<a href="/alpha/">Back to your portal</a>' in olga.get("/alpha/nowhere").text


def test_a_pre_booking_has_the_back_offices_label_in_her_portal(app, w):
    with app.app_context():
        db.scope(db.session, w["agency"])
        _get(app, Booking, w["stay"]).status = BookingStatus.PRE_BOOKING
        db.session.commit()
    with clock.frozen_at(MARCH):
        olga = signed_in_client(app, w["olga"])
        for page in (olga.get("/alpha/owner/bookings").text, olga.get(f"/alpha/owner/bookings/{w['stay']}").text):
            assert ">pre-booking</span>" in page and "pre booking" not in page
