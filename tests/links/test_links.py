"""Loginless links: signing, purposes, expiry, tampering, GET safety, single use, state, audit."""

import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from portal import clock, create_app, db, links
from portal.links.models import ActionLink, LinkEvent
from portal.money.models import Charge, ChargeStatus, Payment
from tests import factories as f
from tests.conftest import TEST_KEY, press_at_once, press_link

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def pay_link(app):
    """A guest's open charge and a pay link for it: (token, link id, charge id, agency id)."""
    with app.app_context():
        a = f.agency("alpha")
        guest = f.person(a, "Ana Guest", "ana@example.com")
        charge = f.charge(a, booking=f.booking(a, guest=guest), amount="420.00", kind=f.ChargeKind.FEE,
                          description="Cleaning fee")
        link = links.create("pay", charge, guest)
        token = links.token(link)
        db.session.commit()
        return token, link.id, charge.id, a.id


def _state(app, link_id, charge_id):
    with app.app_context():
        link = db.session.scalar(select(ActionLink).where(ActionLink.id == link_id)
                                 .execution_options(all_agencies=True))
        payments = db.session.scalar(select(func.count(Payment.id)).execution_options(all_agencies=True))
        status = db.session.scalar(select(Charge.status).where(Charge.id == charge_id)
                                   .execution_options(all_agencies=True))
        return link.uses, link.used_at, payments, status


def test_get_head_change_nothing_and_the_link_still_works(app, client, pay_link, run_jobs, smtp_server):
    token, link_id, charge_id, _ = pay_link
    for _ in range(3):
        page = client.get(f"/l/{token}")
        assert page.status_code == 200
        assert "Pay Cleaning fee of 420.00 EUR due 1 December 2026 for booking" in page.text
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        # No script, no auto-submit: only a person pressing the button posts the form.
        assert "<script" not in page.text.lower()
    head = client.head(f"/l/{token}")
    assert head.status_code == 200 and head.data == b""
    assert _state(app, link_id, charge_id) == (0, None, 0, ChargeStatus.OPEN)
    with app.app_context():
        outcomes = db.session.scalars(select(LinkEvent.outcome).where(LinkEvent.link_id == link_id)).all()
    assert outcomes == ["open-ok"] * 3  # HEAD writes nothing, not even an audit row

    done = press_link(client, token)
    assert done.status_code == 200
    assert "We received 420.00 EUR for Cleaning fee" in done.text
    uses, used_at, payments, status = _state(app, link_id, charge_id)
    assert (uses, payments, status) == (1, 1, ChargeStatus.PAID) and used_at is not None
    run_jobs()
    [receipt] = smtp_server.messages
    assert receipt["Subject"] == "Receipt: Cleaning fee" and receipt["To"] == "Ana Guest <ana@example.com>"
    assert receipt.get_body(("plain",)).get_content().startswith("Hello Ana,")
    assert "420.00 EUR" in receipt.get_body(("plain",)).get_content()
    # Used: a second press and a reopen both say so, and nothing more is paid.
    again = client.get(f"/l/{token}")
    assert again.status_code == 410
    # ...that the charge is paid, rather than offering a fresh link for it.
    assert "This charge has been paid" in again.text and "fresh link" not in again.text
    assert _state(app, link_id, charge_id)[2] == 1


def test_post_without_the_links_form_token_is_refused(app, client, pay_link):
    token, link_id, charge_id, _ = pay_link
    assert client.post(f"/l/{token}", data={}).status_code == 400
    other = links.form_token  # a form token of another link does not open this one
    with app.test_request_context():
        foreign = other(ActionLink(id="someotherlinkid0000000"))
    assert client.post(f"/l/{token}", data={"form_token": foreign}).status_code == 400
    assert _state(app, link_id, charge_id) == (0, None, 0, ChargeStatus.OPEN)
    with app.app_context():
        assert db.session.scalar(select(func.count(LinkEvent.id)).where(
            LinkEvent.outcome == "use-no-form-token")) == 2


def _sign(payload, key, salt):
    return URLSafeSerializer([key], salt=salt).dumps(payload)


def test_tampered_and_unknown_tokens_get_the_same_page(app, client, pay_link):
    token, link_id, charge_id, _ = pay_link
    _action, signed = token.split("~", 1)
    body, sig = signed.rsplit(".", 1)
    variants = {
        "truncated": token[:-1],
        "padded": token + "A",
        "padded-base64": token + "==",
        "re-encoded": f"pay~{_sign({'id': link_id}, TEST_KEY, 'portico.link.pay').split('.')[0]}x.{sig}",
        "other-key": f"pay~{_sign({'id': link_id}, 'not-our-key-' * 4, 'portico.link.pay')}",
        "other-purpose": f"login~{signed}",
        "unknown-action": f"nuke~{signed}",
        "unknown-id": f"pay~{_sign({'id': 'x' * 22}, TEST_KEY, 'portico.link.pay')}",
        "not-a-dict": f"pay~{_sign(['x'], TEST_KEY, 'portico.link.pay')}",
        "garbage": "%00%ff..~~",
        "empty-payload": "pay~",
    }
    # The same signature spelt differently: base64's unused low bits in the last character.
    from itsdangerous.encoding import base64_decode

    respelt = next(sig[:-1] + c for c in "AEIMQUYcgkosw048BFJNRVZdhlptx159" if c != sig[-1]
                   and base64_decode(sig[:-1] + c) == base64_decode(sig))
    variants["re-spelt-signature"] = f"pay~{body}.{respelt}"
    pages = {}
    for name, bad in variants.items():
        response = client.get(f"/l/{urllib.parse.quote(bad, safe='~')}")
        assert response.status_code == 404, name
        pages[name] = re.sub(r'value="[^"]*"', "", response.text)
        post = client.post(f"/l/{urllib.parse.quote(bad, safe='~')}", data={"form_token": "x"})
        assert post.status_code == 404, name
    assert len(set(pages.values())) == 1, "every bad token must get the very same page"
    assert "This link is not valid" in pages["garbage"]
    assert _state(app, link_id, charge_id) == (0, None, 0, ChargeStatus.OPEN)
    with app.app_context():
        invalid = db.session.scalar(select(func.count(LinkEvent.id)).where(LinkEvent.outcome.like("%-invalid")))
    assert invalid == 2 * len(variants)


def test_a_token_signed_for_another_purpose_does_not_open_this_link(app, client, pay_link):
    token, link_id, _charge_id, _ = pay_link
    # Properly signed, but with the sign-in purpose's salt: the pay link must not open as a login.
    forged = f"login~{_sign({'id': link_id}, TEST_KEY, 'portico.link.login')}"
    assert client.get(f"/l/{forged}").status_code == 404
    assert client.get(f"/l/{token}").status_code == 200


def test_key_rotation(app, pay_link):
    token, *_ = pay_link
    newer = "n" * 48
    rotated = create_app({**app.config, "SECRET_KEYS": [TEST_KEY, newer]})
    retired = create_app({**app.config, "SECRET_KEYS": [newer]})
    try:
        assert rotated.test_client().get(f"/l/{token}").status_code == 200  # old key still listed
        with rotated.app_context():
            link = db.session.scalar(select(ActionLink).execution_options(all_agencies=True))
            fresh = links.token(link)
        assert fresh != token  # signed with the newest key now
        assert retired.test_client().get(f"/l/{fresh}").status_code == 200
        assert retired.test_client().get(f"/l/{token}").status_code == 404  # its key was removed
    finally:
        rotated.extensions["db.engine"].dispose()
        retired.extensions["db.engine"].dispose()


def test_expiry_at_the_edge(app, client):
    with clock.frozen_at(T0) as travel, app.app_context():
        a = f.agency()
        guest = f.person(a)
        charge = f.charge(a, booking=f.booking(a, guest=guest))
        token = links.token(links.create("pay", charge, guest, expires_in=timedelta(hours=1)))
        db.session.commit()
        travel.advance(hours=1)
        assert client.get(f"/l/{token}").status_code == 200  # valid at exactly its max age
        travel.advance(seconds=1)
        response = client.get(f"/l/{token}")
        assert response.status_code == 410
        assert "expired" in response.text
        assert client.post(f"/l/{token}", data={"form_token": "x"}).status_code == 410


def test_a_change_of_state_kills_the_link(app, client, pay_link, login):
    token, link_id, charge_id, agency_id = pay_link
    with app.app_context():
        db.scope(db.session, agency_id)
        charge = db.session.get(Charge, charge_id)
        from portal.money.operations import pay

        pay(charge, charge.person, charge.balance, channel="office")  # paid another way
        db.session.commit()
    response = client.get(f"/l/{token}")
    assert response.status_code == 410
    assert "no longer valid" in response.text
    assert _state(app, link_id, charge_id)[2] == 1


def test_editing_the_charge_kills_its_links(app, client, pay_link):
    token, _link_id, charge_id, agency_id = pay_link
    with app.app_context():
        db.scope(db.session, agency_id)
        charge = db.session.get(Charge, charge_id)
        from portal.money.operations import save_charge

        save_charge(charge, agency_id, {"kind": charge.kind, "lease_id": None, "booking_id": charge.booking_id,
                                        "description": charge.description, "amount": Decimal("400.00"),
                                        "due_date": charge.due_date})
        db.session.commit()
    assert client.get(f"/l/{token}").status_code == 410


def test_revocation_kills_the_link(app, client, pay_link):
    token, link_id, charge_id, agency_id = pay_link
    with app.app_context():
        db.scope(db.session, agency_id)
        links.revoke(db.session.get(ActionLink, link_id))
        db.session.commit()
    response = client.get(f"/l/{token}")
    assert response.status_code == 410 and "withdrawn" in response.text
    assert _state(app, link_id, charge_id) == (0, None, 0, ChargeStatus.OPEN)


def test_a_link_cannot_reach_another_agencys_object(app, client, pay_link):
    token, link_id, charge_id, _agency_id = pay_link
    with app.app_context():
        other = f.agency("beta")
        db.session.commit()
        # A link row pointing across agencies (as if forged in the database): still no access.
        link = db.session.scalar(select(ActionLink).execution_options(all_agencies=True))
        link.agency_id = other.id
        db.session.commit()
    response = client.get(f"/l/{token}")
    assert response.status_code == 410
    assert _state(app, link_id, charge_id)[2:] == (0, ChargeStatus.OPEN)


def test_someone_elses_charge_cannot_be_linked(app):
    with app.app_context():
        a = f.agency()
        ana, bob = f.person(a, "Ana", "ana@example.com"), f.person(a, "Bob", "bob@example.com")
        charge = f.charge(a, booking=f.booking(a, guest=ana))
        with pytest.raises(ValueError):
            links.issue("pay", charge, bob)


@pytest.mark.parametrize(
    "amount", ["-5", "abc", "0", "NaN", "1e400", "10.001", "421", "1e999999999", "1e-999999999", "Infinity"]
)
def test_bad_amounts_are_refused_and_change_nothing(app, client, pay_link, amount):
    token, link_id, charge_id, agency_id = pay_link
    with app.app_context():
        from portal.agencies.models import Agency

        db.session.get(Agency, agency_id).settings = {"partial_payments": True}
        db.session.commit()
    response = press_link(client, token, amount=amount)
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert _state(app, link_id, charge_id) == (0, None, 0, ChargeStatus.OPEN)
    assert client.get(f"/l/{token}").status_code == 200  # still usable


def test_partial_payment_when_enabled_and_full_amount_otherwise(app, client, pay_link):
    token, _link_id, charge_id, agency_id = pay_link
    assert press_link(client, token, amount="100").status_code == 422  # partial payments are off
    with app.app_context():
        from portal.agencies.models import Agency

        db.session.get(Agency, agency_id).settings = {"partial_payments": True}
        db.session.commit()
    assert press_link(client, token, amount="100.00").status_code == 200
    with app.app_context():
        db.scope(db.session, agency_id)
        charge = db.session.get(Charge, charge_id)
        assert charge.status == ChargeStatus.OPEN and charge.balance == Decimal("320.00")


def test_twenty_simultaneous_presses_pay_exactly_once(app, live_server, pay_link):
    token, link_id, charge_id, _ = pay_link
    codes = press_at_once(live_server, token)
    assert sorted(codes).count(200) == 1, codes
    assert all(c in (409, 410) for c in codes if c != 200), codes
    uses, used_at, payments, status = _state(app, link_id, charge_id)
    assert (uses, payments, status) == (1, 1, ChargeStatus.PAID)
    assert used_at is not None


def test_dead_link_offers_a_fresh_one_without_revealing_anything(app, client, run_jobs, smtp_server):
    with clock.frozen_at(T0) as travel, app.app_context():
        a = f.agency()
        guest = f.person(a)
        charge = f.charge(a, booking=f.booking(a, guest=guest))
        token = links.token(links.create("pay", charge, guest, expires_in=timedelta(minutes=5)))
        db.session.commit()
        travel.advance(minutes=6)
        dead = client.get(f"/l/{token}")
        assert "E-mail me a fresh link" in dead.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', dead.text).group(1)
        renewed = client.post("/l/renew", data={"csrf_token": csrf, "token": token})
        bogus = client.post("/l/renew", data={"csrf_token": csrf, "token": "pay~nonsense"})
        assert renewed.status_code == bogus.status_code == 200
        assert renewed.text == bogus.text
    run_jobs()
    [email] = smtp_server.messages
    assert email["To"] == "ana@example.com"
    fresh = re.search(r"/l/(\S+)", email.get_body(("plain",)).get_content()).group(1)
    assert fresh != token
    assert client.get(f"/l/{fresh}").status_code == 200


def test_link_merge_field_creates_a_link_for_the_recipient(app):
    from flask import render_template_string

    with app.test_request_context():
        a = f.agency()
        guest = f.person(a)
        charge = f.charge(a, booking=f.booking(a, guest=guest))
        text = render_template_string("Pay here: {{ link('pay', charge) }}", charge=charge,
                                      link=links.link_function(guest))
        db.session.commit()
        assert "/l/" not in text  # what is stored names the link; only the SMTP copy carries its URL
        url = links.expand(text).split("Pay here: ")[1]
        assert url.startswith(app.config["BASE_URL"] + "/l/pay~")
        opened = links.open_token(url.rsplit("/", 1)[1])
        assert opened.state == "ok" and opened.link.person_id == guest.id


class DecliningProcessor:
    """Stands in for an outside card processor that declines: the one thing we may fake."""

    name = "declining"

    def collect(self, **kwargs):
        from portal.money.providers import PaymentDeclined

        raise PaymentDeclined("insufficient funds")

    def create_mandate(self, **kwargs):
        return "never"


def test_a_declined_payment_changes_nothing_and_the_link_stays_usable(app, pay_link):
    from portal.money.providers import PROVIDERS

    token, link_id, charge_id, _ = pay_link
    PROVIDERS["declining"] = DecliningProcessor()
    declining = create_app({**app.config, "PAYMENT_PROVIDER": "declining"})
    try:
        client = declining.test_client()
        response = press_link(client, token)
        assert response.status_code == 422
        assert "The payment was declined: insufficient funds" in response.text
        assert _state(app, link_id, charge_id) == (0, None, 0, ChargeStatus.OPEN)
        assert client.get(f"/l/{token}").status_code == 200
    finally:
        declining.extensions["db.engine"].dispose()
        del PROVIDERS["declining"]


def test_an_unknown_payment_provider_refuses_to_start(app):
    from portal.errors import StartupError

    with pytest.raises(StartupError, match="PAYMENT_PROVIDER"):
        create_app({**app.config, "PAYMENT_PROVIDER": "nope"})


def test_fingerprints_do_not_depend_on_how_values_were_written(app, client):
    with app.app_context():
        a = f.agency()
        guest = f.person(a)
        charge = f.charge(a, booking=f.booking(a, guest=guest), amount="420")  # no decimals given
        token = links.token(links.create("pay", charge, guest))  # fingerprinted before any reload
        db.session.commit()
    assert client.get(f"/l/{token}").status_code == 200


def test_no_link_for_what_cannot_be_acted_on(app):
    with app.app_context():
        a = f.agency()
        guest = f.person(a)
        charge = f.charge(a, booking=f.booking(a, guest=guest))
        from portal.money.operations import cancel_charge

        cancel_charge(charge)
        with pytest.raises(ValueError):
            links.create("pay", charge, guest)
