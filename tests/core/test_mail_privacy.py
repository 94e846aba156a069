"""The mail log never holds a usable one-time link or code (issue 9, item 2), names read as
written, every mail wears the agency's layout, and the link pages say what they should (item 15)."""

import re
from datetime import timedelta

from sqlalchemy import select

from automation import dispatcher
from portal import clock, db, links, mail, signin
from portal.agencies.models import Agency, StaffAudit
from portal.links.models import ActionLink
from portal.messages.models import Message
from tests import factories as f
from tests.conftest import csrf_token, press_link

URL = re.compile(r"/l/(\S+?)(?=[\s\"<]|$)")
CODE = re.compile(r"\b(\d{6})\b")


def _stored(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.scalar(select(Message).where(Message.id == message_id).execution_options(all_agencies=True))


def _assert_unusable(message: Message) -> None:
    for part in (message.subject, message.text_body, message.html_body or ""):
        assert "/l/" not in part and not CODE.search(part), part


def _office(app, login, client):
    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        user = f.staff(a)
        person = f.person(a, name="Marco Müller", email="marco@example.com", roles=["tenant"])
        db.session.commit()
        ids = {"agency": a.id, "user": user.id, "person": person.id}
    login("manager@alpha.example", f.PASSWORD)
    return ids


def test_sent_mail_never_shows_a_usable_sign_in_link_or_code(app, client, login, run_jobs, smtp_server):
    ids = _office(app, login, client)
    page = client.get(f"/manage/people/{ids['person']}")
    sent = client.post(f"/manage/people/{ids['person']}/send-link", data={"csrf_token": csrf_token(page.text)})
    assert sent.status_code == 302
    run_jobs()

    # The person gets a working link and code...
    [email] = smtp_server.messages
    text = email.get_body(("plain",)).get_content()
    token = URL.search(text).group(1)
    code = CODE.search(text).group(1)
    assert token in email.get_body(("html",)).get_content()
    with app.app_context():
        stored = db.session.scalar(select(Message).execution_options(all_agencies=True))
        _assert_unusable(stored)  # ...the log holds neither
        link = db.session.scalar(select(ActionLink).execution_options(all_agencies=True))
        assert link.code_hash is not None and code not in link.code_hash
        audit = db.session.scalars(select(StaffAudit).execution_options(all_agencies=True)).all()
        assert [(r.action, r.user_id) for r in audit] == [("send-link-login", ids["user"])]
        assert f"person #{ids['person']}" in audit[0].detail

    # Sent mail describes the link and code, and carries nothing a manager could use.
    listing = client.get("/manage/mail")
    detail = client.get(f"/manage/mail/{stored.id}")
    for shown in (listing.text, detail.text):
        assert token not in shown and "/l/login" not in shown and code not in shown
    assert "[one-time sign-in link, expires" in detail.text
    assert "[6-digit code, shown only to the recipient]" in detail.text

    # What was delivered works: the code signs in (the link itself is checked below).
    with app.test_request_context():
        db.scope(db.session, ids["agency"])
        assert signin.signin_with_code("marco@example.com", code).id == ids["person"]


def test_portal_sign_in_mail_is_stored_redacted_and_its_link_works(app, client, run_jobs, smtp_server):
    with app.app_context():
        a = f.agency("alpha")
        f.person(a, email="ana@example.com", roles=["guest"])
        db.session.commit()
        signin.send_signin(a.id, "ana@example.com")
        _assert_unusable(db.session.scalar(select(Message).execution_options(all_agencies=True)))
    run_jobs()
    [email] = smtp_server.messages
    token = URL.search(email.get_body(("plain",)).get_content()).group(1)
    assert press_link(client, token).status_code == 302  # signed in, off to the portal


def test_pay_links_in_automated_and_demo_style_mail_are_stored_redacted(ctx, app, client, run_jobs, smtp_server):
    a = f.agency("alpha")
    tpl = f.template(a, name="Pay", subject="Balance for {{ booking.reference }}",
                     text="Pay: {{ link('pay') }}", html="<p><a href=\"{{ link('pay') }}\">pay now</a></p>")
    f.solution(a, "pending-payment", tpl=tpl)
    b = f.booking(a)
    f.charge(a, booking=b, amount="300.00")
    guest = b.guest
    charge = f.charge(a, booking=b, amount="20.00")
    html = links.link_function(guest)("pay", charge)  # the merge field of the code's own mail templates
    mail.send(to=guest.email, subject="Extra", text=f"Pay: {html}", person=guest)
    db.session.commit()
    dispatcher.dispatch()
    run_jobs()
    db.session.expire_all()
    stored = db.session.scalars(select(Message)).all()
    assert len(stored) == 2
    for message in stored:
        _assert_unusable(message)
    tokens = [URL.search(m.get_body(("plain",)).get_content()).group(1) for m in smtp_server.messages]
    assert len(tokens) == 2 and all(t.startswith("pay~") for t in tokens)
    for token in tokens:
        assert client.get(f"/l/{token}").status_code == 200


def test_names_read_as_written_and_are_encoded_only_on_the_wire(app, client, login, run_jobs, smtp_server):
    ids = _office(app, login, client)
    with app.app_context():
        db.scope(db.session, ids["agency"])
        agency = db.session.get(Agency, ids["agency"])
        agency.name = "Ferienhäuser Müller"
        db.session.commit()
        message = mail.send(to=mail.address("Marco Müller", "marco@example.com"), subject="Grüße", text="Hallo")
        legacy = mail.send(to="=?utf-8?q?Zo=C3=AB_Ga=C3=9F?= <zoe@example.com>", subject="Older row", text="x")
        db.session.commit()
        mid, legacy_id = message.id, legacy.id
    run_jobs()
    listing = client.get("/manage/mail").text
    detail = client.get(f"/manage/mail/{mid}").text
    assert "=?utf-8?" not in listing and "=?utf-8?" not in detail
    assert "Marco Müller &lt;marco@example.com&gt;" in detail
    assert "Ferienhäuser Müller" in detail
    assert "Zoë Gaß" in listing and "Zoë Gaß" in client.get(f"/manage/mail/{legacy_id}").text
    sent = next(m for m in smtp_server.messages if m["Subject"] == "Grüße")
    assert str(sent["To"]) == "Marco Müller <marco@example.com>"
    assert str(sent["From"]).startswith("Ferienhäuser Müller <")
    raw = sent.as_bytes()
    assert b"=?utf-8?" in raw and "Müller".encode() not in raw.split(b"\n\n", 1)[0]  # encoded in the header


def test_every_mail_wears_the_agencys_layout(ctx, run_jobs, smtp_server):
    a = f.agency("alpha", name="Alpha Rentals")
    a.primary_color = "#7a1f5c"
    guest = f.person(a)
    mail.send(to=guest.email, subject="Plain", text="Just text, see https://example.com/x")
    mail.send(to=guest.email, subject="Full doc", text="t", html="<html><body><p>Inner</p></body></html>")
    db.session.commit()
    run_jobs()
    plain, full = smtp_server.messages
    for email in (plain, full):
        html = email.get_body(("html",)).get_content()
        assert "#7a1f5c" in html and html.count("<body") == 1 and "Alpha Rentals" in html
        assert email.get_body(("plain",)).get_content().rstrip().endswith("Alpha Rentals")
    assert '<a href="https://example.com/x"' in plain.get_body(("html",)).get_content()
    assert "<p>Inner</p>" in full.get_body(("html",)).get_content()


def test_pay_page_names_the_method_and_done_page_links_to_the_portal(ctx, app, client):
    a = f.agency("alpha")
    b = f.booking(a)
    token = links.token(links.create("pay", f.charge(a, booking=b, amount="80.00"), b.guest))
    db.session.commit()
    page = client.get(f"/l/{token}")
    assert "Payment method" in page.text and "Recorded payment" in page.text
    done = press_link(client, token)
    assert done.status_code == 200 and f'href="/{a.slug}/"' in done.text


def test_an_appointment_link_expires_when_the_appointment_starts(ctx):
    a = f.agency("alpha")
    who = f.person(a, roles=["tenant"])
    soon = clock.now() + timedelta(hours=5)
    link = links.create("appointment", f.appointment(a, who, starts=soon.astimezone(a.zone).replace(tzinfo=None)), who)
    assert abs((link.expires_at - soon).total_seconds()) < 1
    later = clock.now() + timedelta(days=30)
    far = links.create("appointment", f.appointment(a, who, starts=later.astimezone(a.zone).replace(tzinfo=None)), who)
    assert far.expires_at < later  # the usual week, when the appointment is further away


def test_the_migration_scrubs_links_and_codes_logged_before(ctx):
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    import portal

    a = f.agency("alpha")
    old = mail.send(to="ana@example.com", subject="Your sign-in link",
                    text="Open http://x.example/l/login~eyJpZCI6IjEifQ.abc-_1 or type 123456",
                    html='<a href="http://x.example/l/login~eyJpZCI6IjEifQ.abc-_1">Sign in</a> <b>123456</b>')
    pay = mail.send(to="ana@example.com", subject="Payment due",
                    text="Pay: https://x.example/l/pay%7Eabc.def (ref 123456)")
    db.session.flush()
    path = Path(portal.__file__).parent / "migrations" / "versions" / "0013_mail_redaction.py"
    spec = importlib.util.spec_from_file_location("migration_0013_mail", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with Operations.context(MigrationContext.configure(db.session.connection())):
        module.upgrade()
    db.session.expire_all()
    old, pay = db.session.get(Message, old.id), db.session.get(Message, pay.id)
    assert "/l/" not in old.text_body + old.html_body and "123456" not in old.text_body + old.html_body
    assert "[one-time link, removed from the log]" in old.html_body
    assert pay.text_body == "Pay: [one-time link, removed from the log] (ref 123456)"  # only sign-in codes go
    assert a.id


def test_a_placeholder_written_by_hand_never_becomes_a_live_link(ctx, app, run_jobs, smtp_server):
    """Link ids show in the back office (to revoke them): typing one into a mail must give nothing."""
    a = f.agency("alpha")
    person = f.person(a, roles=["tenant"])
    link = links.create("login", person, person)
    genuine = links.placeholder(link)
    forged = re.sub(r":[0-9a-f]{20}\}$", ":" + "0" * 20 + "}", genuine)
    assert forged != genuine
    mail.send(to="someone@example.com", subject="Hi", text=f"Try {forged} and {{portico-link:login:{link.id}}}")
    db.session.commit()
    run_jobs()
    [email] = smtp_server.messages
    body = email.get_body(("plain",)).get_content()
    assert "/l/" not in body and "[invalid link]" in body


def test_the_portal_message_list_shows_links_redacted(app, run_jobs):
    from tests.conftest import signed_in_client

    with app.app_context():
        a = f.agency("alpha")
        guest = f.person(a, roles=["guest"])
        b = f.booking(a, guest=guest)
        charge = f.charge(a, booking=b, amount="20.00")
        from portal.links.delivery import send_link

        send_link("pay", charge, guest)
        db.session.commit()
        person_id = guest.id
    run_jobs()  # the portal lists what was sent
    client = signed_in_client(app, person_id)
    page = client.get("/alpha/guest/messages")
    assert page.status_code == 200, page.text
    assert "Payment due" in page.text and "[one-time payment link, expires" in page.text
    assert "portico-link" not in page.text and "/l/pay" not in page.text
