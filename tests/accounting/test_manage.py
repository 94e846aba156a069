"""The back office's part of owner accounting here: the management-fee fields on the agency and person forms
(out of range: a form error, nothing saved) and recording a refund on a charge's payment (bad input or another
agency's payment: nothing written)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.accounting import operations as acc
from portal.agencies.models import Agency, StaffRole, StaffUser
from portal.money.models import Refund
from portal.money.operations import pay
from portal.people.models import Person
from tests import factories as f
from tests.conftest import csrf_token


@pytest.fixture
def office(app, login):
    with app.app_context():
        beta = f.agency("beta")
        beta_tenant = f.person(beta, "Bea Tenant", "bea@example.com")
        beta_charge = f.charge(beta, lease=f.lease(beta, f.unit(beta), beta_tenant), amount="50.00")
        beta_payment = pay(beta_charge, beta_tenant, beta_charge.amount, channel="office")
        a = f.agency("alpha", timezone="Europe/Madrid")
        admin = f.staff(a)
        admin.role = StaffRole.ADMIN
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit = f.unit(a)
        unit.owners.append(owner)
        charge = f.charge(a, lease=f.lease(a, unit, tenant), amount="800.00")
        with clock.frozen_at(datetime(2026, 11, 5, 10, tzinfo=UTC)):
            payment = pay(charge, tenant, charge.amount, channel="office")
        ids = {"agency": a.id, "owner": owner.id, "charge": charge.id, "payment": payment.id,
               "beta_charge": beta_charge.id, "beta_payment": beta_payment.id}
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return ids


AGENCY = {"name": "Alpha Rentals", "timezone": "Europe/Madrid", "currency": "EUR", "primary_color": "#1f4e79",
          "accent_color": "#e07a1f", "locale": "en_GB"}


def test_the_agency_form_takes_the_fee_terms_in_range(app, client, office):
    page = client.get("/manage/agency")
    assert "Management fee (% of income)" in page.text and "Management fee per unit per month" in page.text
    data = {**AGENCY, "csrf_token": csrf_token(page.text)}
    for bad, message in (({"management_fee_percent": "100.5"}, "Enter a percentage between 0 and 100"),
                         ({"management_fee_percent": "-1"}, "Enter a percentage between 0 and 100"),
                         ({"management_fee_fixed": "-5"}, "Must be zero or more."),
                         ({"management_fee_fixed": "12.345"}, "2 decimal places at most"),
                         ({"management_fee_percent": "ten"}, "Enter a percentage between 0 and 100")):
        refused = client.post("/manage/agency", data={**data, **bad})
        assert refused.status_code == 422 and message in refused.text, bad
    with app.app_context():
        assert acc.FEE_PERCENT not in (db.session.get(Agency, office["agency"]).settings or {})
    saved = client.post("/manage/agency", data={**data, "management_fee_percent": "8.5",
                                                "management_fee_fixed": "20"})
    assert saved.status_code == 302
    with app.app_context():
        settings = db.session.get(Agency, office["agency"]).settings
        assert (settings[acc.FEE_PERCENT], settings[acc.FEE_FIXED]) == ("8.5", "20")
    assert 'value="8.5"' in client.get("/manage/agency").text


def test_an_owner_has_their_own_fee_terms(app, client, office):
    url = f"/manage/people/{office['owner']}/edit"
    data = {"csrf_token": csrf_token(client.get(url).text), "name": "Olga Owner", "email": "olga@example.com",
            "roles": ["owner"], "language": ""}
    for bad in ({"fee_percent": "101"}, {"fee_fixed": "-1"}, {"fee_percent": "abc"}):
        assert client.post(url, data={**data, **bad}).status_code == 422
    with app.app_context():
        db.scope(db.session, office["agency"])
        assert db.session.get(Person, office["owner"]).fee_percent is None
    assert client.post(url, data={**data, "fee_percent": "7", "fee_fixed": "15.50"}).status_code == 302
    with app.app_context():
        db.scope(db.session, office["agency"])
        owner = db.session.get(Person, office["owner"])
        assert (owner.fee_percent, owner.fee_fixed) == (Decimal("7.00"), Decimal("15.50"))
        assert acc.fee_terms(owner, db.session.get(Agency, office["agency"])) == (Decimal(7), Decimal("15.50"))
    # Emptied: the agency's terms again.
    assert client.post(url, data={**data, "fee_percent": "", "fee_fixed": ""}).status_code == 302
    with app.app_context():
        db.scope(db.session, office["agency"])
        assert db.session.get(Person, office["owner"]).fee_percent is None


def test_percent_fields_speak_of_percentages_not_amounts(app, client, office):
    agency_page = client.get("/manage/agency")
    person_url = f"/manage/people/{office['owner']}/edit"
    person = {"csrf_token": csrf_token(client.get(person_url).text), "name": "Olga Owner",
              "email": "olga@example.com", "roles": ["owner"], "language": ""}
    for bad in ("ten", "-1", "100.01", "1e9", "12.345"):
        for url, data in (("/manage/agency", {**AGENCY, "csrf_token": csrf_token(agency_page.text),
                                              "management_fee_percent": bad}),
                          (person_url, {**person, "fee_percent": bad})):
            refused = client.post(url, data=data)
            assert refused.status_code == 422, (url, bad)
            assert "percentage" in refused.text and "Enter an amount" not in refused.text, (url, bad)
            assert "Must be zero or more" not in refused.text and "EUR amounts" not in refused.text, (url, bad)
            assert "Enter a percentage between 0 and 100" in refused.text or bad == "12.345", (url, bad)


def _refunds(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Refund.id)).execution_options(all_agencies=True))


def test_staff_record_a_refund_on_a_payment(app, client, office):
    page = client.get(f"/manage/charges/{office['charge']}")
    assert "Record refund" in page.text
    token = csrf_token(page.text)
    url = f"/manage/charges/{office['charge']}/payments/{office['payment']}/refund"
    for bad, message in (({"amount": "900", "reason": "Too much"}, "At most 800.00 EUR"),
                         ({"amount": "0", "reason": "Zero"}, "more than zero"),
                         ({"amount": "10", "reason": ""}, "Say why"),
                         ({"amount": "1.234", "reason": "Odd"}, "decimal places")):
        refused = client.post(url, data={"csrf_token": token, **bad})
        assert refused.status_code == 422 and "Nothing was refunded" in refused.text and message in refused.text
    assert client.post(url, data={"amount": "10", "reason": "No token"}).status_code in (400, 422)
    assert _refunds(app) == 0
    with clock.frozen_at(datetime(2026, 11, 20, 10, tzinfo=UTC)):
        done = client.post(url, data={"csrf_token": token, "amount": "120.00",
                                      "reason": "Heating broken for a week"}, follow_redirects=True)
    assert "Refund of 120.00 EUR recorded." in done.text and "Heating broken for a week" in done.text
    assert _refunds(app) == 1
    # Another agency's payment, or a payment of another charge: not found, nothing written.
    assert client.post(f"/manage/charges/{office['beta_charge']}/payments/{office['beta_payment']}/refund",
                       data={"csrf_token": token, "amount": "1", "reason": "x"}).status_code == 404
    assert client.post(f"/manage/charges/{office['charge']}/payments/{office['beta_payment']}/refund",
                       data={"csrf_token": token, "amount": "1", "reason": "x"}).status_code == 404
    assert client.get(url).status_code == 405
    assert _refunds(app) == 1
    with app.app_context():
        db.scope(db.session, office["agency"])
        owner = db.session.get(Person, office["owner"])
        with clock.frozen_at(datetime(2026, 12, 2, tzinfo=UTC)):
            statement = acc.generate(owner, date(2026, 11, 1), "EUR")
        # The refund is negative income on the owner's statement, naming its row.
        assert [(line.kind.value, line.amount, line.source_type) for line in statement.lines] == [
            ("income", Decimal("800.00"), "payment"), ("refund", Decimal("-120.00"), "refund")]
        db.session.rollback()


def test_a_manager_cannot_change_the_agency_fees(app, client, office):
    with app.app_context():
        db.scope(db.session, office["agency"])
        db.session.scalar(select(StaffUser)).role = StaffRole.MANAGER
        db.session.commit()
    assert client.get("/manage/agency").status_code == 403
