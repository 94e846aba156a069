"""An owner's money, end to end from the mail at the SMTP server: a statement sent from the back office mails
its owner a one-time link that signs them in to it; the statement's page, PDF (its text, read back with pypdf)
and CSV carry the database's figures; another owner gets a 404. A contribution asked by staff is mailed as a
payment link: opening it changes nothing, pressing it pays through the provider and records the owner entry,
and the link is then used up."""

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from automation import dispatcher
from portal import clock, db
from portal.accounting import queries
from portal.accounting.contributions import Contribution, ContributionStatus
from portal.accounting.documents import parse_csv
from portal.accounting.models import EntryKind, OwnerEntry, Statement, StatementStatus
from portal.accounting.pdf import amount_text
from portal.money.currency import format_money
from portal.money.operations import pay
from tests import factories as f
from tests.conftest import FORM_TOKEN, csrf_token

D = Decimal
NOV = date(2026, 11, 1)
IN_NOVEMBER = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
IN_DECEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    """Olga owns Seafront 1A, let to Tom, whose November rent of 1,250.00 EUR was paid; Otto owns 2B."""
    with app.app_context(), clock.frozen_at(IN_NOVEMBER):
        a = f.agency("alpha", starter=True, timezone="Europe/Madrid")
        a.settings = {"management_fee_percent": "10"}
        staff = f.staff(a)
        olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        otto = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit, other = f.unit(a, f.prop(a, "Seafront"), "1A"), f.unit(a, f.prop(a, "Hillside"), "2B")
        unit.owners.append(olga)
        other.owners.append(otto)
        lease = f.lease(a, unit, tom)
        charge = f.charge(a, lease=lease, amount="1250.00", description="Rent November 2026")
        pay(charge, tom, D("1250.00"), channel="office")
        ids = {"agency": a.id, "staff": staff.id, "olga": olga.id, "otto": otto.id, "unit": unit.id}
        db.session.commit()
    return ids


def mails_to(smtp_server, address: str, subject_start: str) -> list:
    return [m for m in smtp_server.messages if address in m["To"] and m["Subject"].startswith(subject_start)]


def token_in(mail) -> str:
    return re.search(r"/l/(\S+)", mail.get_body(("plain",)).get_content()).group(1)


def deliver(app, run_jobs) -> None:
    """Due automation tasks sent, queued mail delivered (the worker)."""
    with app.app_context():
        dispatcher.dispatch()
    run_jobs()


def staff_client(app, login):
    client = app.test_client()
    assert login("manager@alpha.example", f.PASSWORD, client).status_code == 302
    return client


def read(app, agency_id: int, fn):
    with app.app_context():
        db.scope(db.session, agency_id)
        return fn()


def test_statement_sent_from_the_back_office_reaches_the_owner_and_its_files_carry_the_figures(
        app, world, login, run_jobs, smtp_server):
    with clock.frozen_at(IN_DECEMBER):
        staff = staff_client(app, login)
        page = staff.get("/manage/statements")
        made = staff.post("/manage/statements/generate", data={"csrf_token": csrf_token(page.text),
                                                               "month": "2026-11", "owner_id": str(world["olga"])})
        assert made.status_code == 303
        statement_id = read(app, world["agency"], lambda: db.session.scalar(
            select(Statement.id).where(Statement.owner_id == world["olga"], Statement.month == NOV)))
        detail = staff.get(f"/manage/statements/{statement_id}")
        assert "Send to Olga Owner" in detail.text and "Rent November 2026" in detail.text
        sent = staff.post(f"/manage/statements/{statement_id}/send", data={"csrf_token": csrf_token(detail.text)})
        assert sent.status_code == 303
        deliver(app, run_jobs)
        mails = mails_to(smtp_server, "olga@example.com", "Your statement for November 2026")
        assert len(mails) == 1
        body = mails[0].get_body(("plain",)).get_content()
        facts = read(app, world["agency"], lambda: (lambda s: (s.opening, s.closing, s.status,
                                                               [(ln.description, ln.amount) for ln in s.lines]))(
            db.session.get(Statement, statement_id)))
        opening, closing, status, lines = facts
        assert status == StatementStatus.SENT
        assert closing == D("1125.00") and opening == 0  # 1,250 rent less the 10 % fee
        assert f"Closing balance: {format_money(closing, 'EUR')}" in body

        owner = app.test_client()
        token = token_in(mails[0])
        opened = owner.get(f"/l/{token}")
        assert opened.status_code == 200 and "Sign in and open it" in opened.text
        signed_in = owner.post(f"/l/{token}", data={"form_token": FORM_TOKEN.search(opened.text).group(1)})
        assert signed_in.status_code == 303
        assert signed_in.headers["Location"].endswith(f"/alpha/owner/statements/{statement_id}")
        shown = owner.get(signed_in.headers["Location"])
        assert shown.status_code == 200
        for description, amount in lines:
            assert description in shown.text and format_money(amount, "EUR") in shown.text
        assert format_money(closing, "EUR") in shown.text

        listed = owner.get("/alpha/owner/statements")
        assert f"/alpha/owner/statements/{statement_id}/pdf" in listed.text

        pdf = owner.get(f"/alpha/owner/statements/{statement_id}/pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert pdf.headers["Content-Disposition"] == 'attachment; filename="statement-2026-11-EUR.pdf"'
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
        for figure in (opening, closing, *(amount for _, amount in lines)):
            assert amount_text(figure, "EUR") in text, (figure, text)

        csv = owner.get(f"/alpha/owner/statements/{statement_id}/csv")
        assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
        parsed = parse_csv(csv.data.decode())
        assert (parsed["opening"], parsed["closing"]) == (opening, closing)
        assert [(row["description"], row["amount"]) for row in parsed["lines"]] == lines

        # Otto, another owner of the agency, gets nothing of it.
        from tests.conftest import signed_in_client
        otto = signed_in_client(app, world["otto"])
        for suffix in ("", "/pdf", "/csv"):
            assert otto.get(f"/alpha/owner/statements/{statement_id}{suffix}").status_code == 404


def test_a_contribution_asked_by_staff_is_paid_from_the_mail_and_moves_the_balance(
        app, world, login, run_jobs, smtp_server):
    with clock.frozen_at(IN_DECEMBER):
        staff = staff_client(app, login)
        page = staff.get(f"/manage/owner-accounts/{world['olga']}")
        assert page.status_code == 200
        asked = staff.post(f"/manage/owner-accounts/{world['olga']}/contributions",
                           data={"csrf_token": csrf_token(page.text), "amount": "500.00", "currency": "EUR",
                                 "memo": "Roof repair reserve"})
        assert asked.status_code == 302, asked.text
        run_jobs()
        mail = mails_to(smtp_server, "olga@example.com", "Please send 500.00 EUR")
        assert len(mail) == 1
        assert mail[0]["To"] == "Olga Owner <olga@example.com>"  # as the account's other mails are addressed
        token = token_in(mail[0])
        before = read(app, world["agency"], lambda: queries.balances(world["olga"]))

        owner = app.test_client()
        opened = owner.get(f"/l/{token}")
        assert opened.status_code == 200 and "500.00 EUR" in opened.text and "Roof repair reserve" in opened.text
        assert read(app, world["agency"], lambda: queries.balances(world["olga"])) == before
        assert read(app, world["agency"], lambda: db.session.scalar(select(Contribution.status))) \
            == ContributionStatus.REQUESTED

        paid = owner.post(f"/l/{token}", data={"form_token": FORM_TOKEN.search(opened.text).group(1)})
        assert paid.status_code == 200 and "We received 500.00 EUR" in paid.text
        after = read(app, world["agency"], lambda: queries.balances(world["olga"]))
        assert after["EUR"] == before.get("EUR", D(0)) + D("500.00")
        entry, contribution = read(app, world["agency"], lambda: (
            db.session.scalar(select(OwnerEntry)), db.session.scalar(select(Contribution))))
        assert entry.kind == EntryKind.CONTRIBUTION and entry.amount == D("500.00") and entry.owner_id == world["olga"]
        assert contribution.status == ContributionStatus.PAID and contribution.entry_id == entry.id
        assert entry.reference == contribution.reference and contribution.reference.startswith("pt_")
        run_jobs()
        [receipt] = mails_to(smtp_server, "olga@example.com", "Receipt: 500.00 EUR")
        assert receipt["To"] == "Olga Owner <olga@example.com>"

        again = owner.post(f"/l/{token}", data={"form_token": FORM_TOKEN.search(opened.text).group(1)})
        assert again.status_code == 410 and "has been paid" in again.text
        assert read(app, world["agency"], lambda: len(db.session.scalars(select(OwnerEntry)).all())) == 1


def test_the_statement_link_goes_where_the_portals_say_the_core_names_no_portal(app):
    """statement_path asks portal.hooks (filled in by the portals package), not a hard-coded /owner/ path."""
    from dataclasses import replace

    from portal import hooks
    from portal.accounting.actions import statement_path

    with app.app_context():
        a = f.agency("alpha")
        statement = Statement(agency_id=a.id, id=7)
        with app.test_request_context():
            assert statement_path(statement) == "/alpha/owner/statements/7"
            registered = hooks.portals()
            hooks.register(app, replace(registered, statement_endpoint="owner.statement_pdf"))
            try:
                assert statement_path(statement) == "/alpha/owner/statements/7/pdf"
                hooks.register(app, replace(registered, statement_endpoint=None))
                assert statement_path(statement) == hooks.home_url("alpha")
            finally:
                hooks.register(app, registered)
