"""Issue 9, item 16's smaller ones: dates per agency locale, overdue charges, plain-word access
settings, Explain limited to the person's portals, capabilities no feature uses, a branded sign-in."""

import re
from datetime import date, datetime, timedelta

import pytest
from flask import render_template, render_template_string
from sqlalchemy import select

from portal import access, clock, db
from portal.access.models import PortalDefault, TimeWindow
from portal.agencies.models import Agency, StaffRole
from portal.bookings.models import Lease
from portal.documents.models import Document, DocumentKind
from portal.money.models import ChargeStatus
from portal.people.models import PortalRole
from tests import factories as f
from tests.conftest import csrf_token

HIDDEN: tuple[str, ...] = ()  # every capability is used by a feature now
LAYER_CODE = re.compile(r"\bA[1-4]\b")


@pytest.fixture
def staff(app, client, login):
    """An admin of 'alpha' signed in, with a tenant, a guest and an owner."""
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        f.staff(a).role = StaffRole.ADMIN
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        gina = f.person(a, "Gina Guest", "gina@example.com", roles=["guest"])
        olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        lease = f.lease(a, f.unit(a, f.prop(a, "Seafront"), "Flat 1"), tenant=tom)
        db.session.commit()
        client.ids = {"agency": a.id, "tom": tom.id, "gina": gina.id, "olga": olga.id, "lease": lease.id}
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return client


def _set_locale(app, agency_id: int, locale: str) -> None:
    with app.app_context():
        db.session.get(Agency, agency_id).locale = locale
        db.session.commit()


# Dates --------------------------------------------------------------------------------------------

def test_dates_follow_the_agencys_locale_on_pages(app, staff):
    with app.app_context():
        db.scope(db.session, staff.ids["agency"])
        lease = db.session.get(Lease, staff.ids["lease"])
        f.charge(db.session.get(Agency, staff.ids["agency"]), lease=lease, due=date(2027, 3, 4),
                 description="Rent March 2027")
        db.session.commit()
    page = staff.get("/manage/charges").text
    assert "4 Mar 2027" in page and "2027-03-04" not in page  # en_GB by default, never ISO
    _set_locale(app, staff.ids["agency"], "de_DE")
    page = staff.get("/manage/charges").text
    assert "04.03.2027" in page and "4 Mar 2027" not in page
    lease_page = staff.get(f"/manage/leases/{staff.ids['lease']}").text
    assert "01.01.2026" in lease_page or "1. Jan. 2026" in lease_page or "Do., 1. Jan. 2026" in lease_page


def test_filters_take_the_agency_of_a_mail_rendered_outside_a_request(app):
    """A worker renders mail with `agency` in the context: its locale and zone decide, not the request's."""
    with app.app_context():
        a = f.agency("alpha", timezone="America/New_York")
        a.locale = "fr_FR"
        moment = datetime(2026, 12, 1, 3, 30, tzinfo=clock.now().tzinfo)  # 22:30 the day before in New York
        text = render_template_string("{{ d|nicedate }} | {{ t|localtime }} | {{ t|localtime('%H:%M') }}",
                                      agency=a, d=date(2026, 12, 1), t=moment)
    assert text == "mar. 1 déc. 2026 | 30 nov. 2026, 22:30 | 22:30"


def test_mail_templates_write_dates_in_the_agencys_locale(app):
    with app.app_context():
        a = f.agency("alpha")
        a.locale = "de_DE"
        lease = f.lease(a)
        charge = f.charge(a, lease=lease, due=date(2026, 12, 1))
        text = render_template("mail/pay_request.txt", obj=charge, agency=a, url="https://x.example/l/t",
                               person=lease.tenant)
    assert "Di., 1. Dez. 2026" in text


def test_admin_chooses_the_locale_and_bad_input_changes_nothing(app, staff):
    page = staff.get("/manage/agency")
    assert 'name="locale"' in page.text and "English (United Kingdom)" in page.text
    settings = {"name": "Alpha Homes", "timezone": "Europe/Madrid", "currency": "EUR", "primary_color": "#0f5c63",
                "accent_color": "#e8833a", "csrf_token": csrf_token(page.text)}
    bad = staff.post("/manage/agency", data={**settings, "locale": "xx_NOPE"})
    assert bad.status_code == 422 and "Not a valid choice" in bad.text
    with app.app_context():
        assert db.session.get(Agency, staff.ids["agency"]).locale == "en_GB"
        assert db.session.get(Agency, staff.ids["agency"]).name != "Alpha Homes"
    assert staff.post("/manage/agency", data={**settings, "locale": "nl_NL"}).status_code == 302
    with app.app_context():
        assert db.session.get(Agency, staff.ids["agency"]).locale == "nl_NL"


def test_templates_render_dates_only_through_the_filters():
    """No strftime or hand-made date format in a template: the filters hold the one format."""
    from pathlib import Path

    roots = [Path("portal/templates"), Path("portals"), Path("automation/templates"), Path("devtools/templates")]
    offenders = [str(p) for root in roots for p in root.rglob("*.html") if "strftime" in p.read_text()]
    assert offenders == []


# Overdue charges ----------------------------------------------------------------------------------

def _charges(app, agency_id: int, lease_id: int) -> dict[str, int]:
    with app.app_context():
        db.scope(db.session, agency_id)
        a = db.session.get(Agency, agency_id)
        lease = db.session.get(Lease, lease_id)
        today = a.today()
        late = f.charge(a, lease=lease, due=today - timedelta(days=12), description="Rent late")
        paid = f.charge(a, lease=lease, due=today - timedelta(days=40), description="Rent paid")
        paid.status = ChargeStatus.PAID
        soon = f.charge(a, lease=lease, due=today + timedelta(days=3), description="Rent soon")
        db.session.commit()
        return {"late": late.id, "paid": paid.id, "soon": soon.id}


def _row(html: str, text: str) -> str:
    return next(r for r in html.split("<tr") if text in r)


def test_overdue_charges_are_flagged_in_the_back_office(app, staff):
    ids = _charges(app, staff.ids["agency"], staff.ids["lease"])
    listing = staff.get("/manage/charges").text
    assert "badge-overdue" in _row(listing, "Rent late")
    assert "badge-overdue" not in _row(listing, "Rent paid") and "badge-overdue" not in _row(listing, "Rent soon")
    only = staff.get("/manage/charges?overdue=yes").text
    assert "Rent late" in only and "Rent paid" not in only and "Rent soon" not in only
    detail = staff.get(f"/manage/charges/{ids['late']}").text
    assert "overdue by 12 days" in detail
    assert "overdue" not in staff.get(f"/manage/charges/{ids['soon']}").text
    lease_page = staff.get(f"/manage/leases/{staff.ids['lease']}").text
    assert "badge-overdue" in _row(lease_page, "Rent late") and "badge-overdue" not in _row(lease_page, "Rent soon")


def test_overdue_charges_are_flagged_in_the_portal(app, staff):
    from tests.conftest import signed_in_client

    _charges(app, staff.ids["agency"], staff.ids["lease"])
    home = signed_in_client(app, staff.ids["tom"]).get("/alpha/tenant/").text
    late = home[home.index("Rent late"):home.index("Rent late") + 600]
    assert "overdue by 12 days" in late
    soon = home[home.index("Rent soon"):home.index("Rent soon") + 600]
    assert "overdue" not in soon.split("</li>")[0]


# Access in plain words, Explain, capabilities not offered -----------------------------------------

def test_access_pages_speak_plain_words(app, staff):
    with app.app_context():
        db.scope(db.session, staff.ids["agency"])
        doc = Document(agency_id=staff.ids["agency"], person_id=staff.ids["tom"], kind=DocumentKind.LETTER,
                         title="House rules", body="Be nice.")
        db.session.add(doc)
        db.session.commit()
        doc_id = doc.id
    pages = ["/manage/access", f"/manage/people/{staff.ids['tom']}/access", f"/manage/documents/{doc_id}",
             f"/manage/explain?person={staff.ids['tom']}&capability=tenant.documents.view&document={doc_id}"]
    for url in pages:
        html = staff.get(url).text
        visible = re.sub(r"<[^>]+>", " ", html)
        assert not LAYER_CODE.search(visible), (url, LAYER_CODE.findall(visible))
    explained = staff.get(pages[-1]).text
    for words in ("Time window", "This item", "This person&#39;s setting", "Agency default", "Shared notice"):
        assert words in explained


def test_explain_offers_only_the_persons_portals(app, staff):
    tom = staff.get(f"/manage/explain?person={staff.ids['tom']}").text
    offered = set(re.findall(r'<option value="([a-z]+\.[a-z.]+)"', tom))
    assert offered == {c.name for c in access.offered([PortalRole.TENANT])}
    gina_page = staff.get(f"/manage/explain?person={staff.ids['gina']}").text
    gina = set(re.findall(r'<option value="([a-z]+\.[a-z.]+)"', gina_page))
    assert gina and all(name.startswith("guest.") for name in gina)
    # A permission of another portal explains nothing: the person's own are offered instead.
    other = staff.get(f"/manage/explain?person={staff.ids['tom']}&capability=guest.checkin").text
    assert "Allowed" not in other and "Not allowed" not in other and "Now choose what Tom Tenant" in other
    # Before a person is chosen, no permission is offered at all.
    assert not re.findall(r'<option value="([a-z]+\.[a-z.]+)"', staff.get("/manage/explain").text)


def test_capabilities_no_feature_uses_are_not_offered(app, staff):
    assert {c.name for c in access.CAPABILITIES.values() if not c.available} == set(HIDDEN)
    page = staff.get("/manage/access").text
    owner_page = staff.get(f"/manage/people/{staff.ids['olga']}/access").text
    for name in HIDDEN:
        assert f'name="{name}"' not in page and f'value="{name}"' not in page
        assert f'name="{name}"' not in owner_page
    for name in ("owner.documents.view", "owner.workorders.approve", "owner.invoices.approve"):
        assert f'name="{name}"' in page and f'name="{name}"' in owner_page
    # Saving the defaults leaves them alone; a window on one is refused.
    token = csrf_token(page)
    assert staff.post("/manage/access", data={"csrf_token": token}).status_code == 302
    hidden = (HIDDEN or ("owner.no-such-thing",))[0]  # none left: an unknown capability is refused the same way
    refused = staff.post("/manage/access/windows", data={"csrf_token": token, "capability": hidden,
                                                         "first_day": "1", "last_day": "5"})
    assert refused.status_code == 303
    with app.app_context():
        db.scope(db.session, staff.ids["agency"])
        saved = set(db.session.scalars(select(PortalDefault.capability)).all())
        assert saved and not saved & set(HIDDEN)
        assert db.session.scalar(select(TimeWindow.id)) is None


# The staff sign-in page ---------------------------------------------------------------------------

def test_staff_signin_wears_the_agencys_brand_where_known(app, client):
    assert "Portico" in client.get("/manage/login").text  # no agency yet
    with app.app_context():
        a = f.agency("alpha", name="Alpha Homes")
        a.primary_color, a.logo_url = "#0f5c63", "https://cdn.alpha.example/logo.png"
        db.session.commit()
    only = client.get("/manage/login").text
    assert "Alpha Homes" in only and "--brand: #0f5c63" in only and 'src="https://cdn.alpha.example/logo.png"' in only
    with app.app_context():
        b = f.agency("beta", name="Beta Stays")
        b.host_name, b.primary_color = "office.beta.example", "#7a1f5c"
        db.session.commit()
    anywhere = client.get("/manage/login").text
    assert "Alpha Homes" not in anywhere and "Beta Stays" not in anywhere and "Portico" in anywhere
    on_host = client.get("/manage/login", headers={"Host": "office.beta.example"}).text
    assert "Beta Stays" in on_host and "--brand: #7a1f5c" in on_host and "Alpha Homes" not in on_host
