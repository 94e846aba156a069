"""Random junk posted to every form of the back office, the portals and the link pages: never a 500,
and a refused submission (4xx) writes nothing.

The forms are found, not listed: the sweep crawls the pages each kind of user can reach, collects
every POST form with the values a browser would send, and checks that every POST route of the app
has a form in the sweep — a new form is swept without touching this file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from automation.models import Task, TaskStatus
from portal import clock, db, links
from portal.access.operations import add_window
from portal.accounting import operations as accounting
from portal.accounting.contributions import request_contribution
from portal.accounting.ledger import previous_month
from portal.agencies.operations import create_staff
from portal.api.keys import create_key
from portal.applicants import operations as applicant_ops
from portal.bookings import operations as stays
from portal.documents.models import Document, DocumentKind
from portal.insurance import operations as quotes
from portal.invoices import operations as invoice_ops
from portal.invoices.operations import create_invoice
from portal.models import Base
from portal.money.operations import pay
from portal.surveys import operations as survey_ops
from portal.violations import operations as violations
from portal.workorders.models import WorkStatus
from portal.workorders.operations import submit_request
from tests import factories as f
from tests.conftest import signed_in_client
from tests.portals import owner_world
from tests.surveys.world import make_survey

EXAMPLES_PER_FORM = 3  # random ones per form, after the EVERYWHERE ones: a few hundred requests in all
# Each is put in every field of every form at once: WTForms checks all fields, so each field's parsing meets it.
EVERYWHERE = ["9" * 400, "1E+999999999999", "9999-12-31", "0001-01-01"]
FORM_PREFIXES = ("manage.", "automation.", "portals.", "tenant.", "guest.", "owner.", "vendor.", "links.")
# Routes with no form to sweep, and why.
NOT_SWEPT = {
    "manage.logout": "ends the session the sweep runs in",
    "portals.signout": "ends the session the sweep runs in",
}
FINAL = re.compile(r"delete|cancel|revoke|deactivate")
# Tables that record attempts by design (a refused sign-in or link use is audited): their rows are the point.
AUDIT_TABLES = {"login_attempts", "link_events", "staff_audit"}

TRICKY = [
    "9" * 400, "-" + "9" * 400, "1E+999999999999", "-1E+999999999999", "1e-999999999", "9.99999999999999999999e20",
    "NaN", "-Infinity", "Infinity", "sNaN", "", " ", "0", "-1", "2147483648", "-2147483649", "99999999999999999999",
    "٣٤", "²", "1_000", "0x10", "1,5", "x" * 5000, "y" * 70_000, "\x00", "a\x00b", "2026-02-30", "9999-12-31",
    "0001-01-01", "1969-12-31", "9999-12-31T23:59", "0001-01-01T00:00", "25:99", "<script>alert(1)</script>",
    "' OR 1=1 --", "é" * 300, "line\r\nbreak", "None", "null", "true", "on", "[]", "{}",
]
junk_value = st.one_of(st.sampled_from(TRICKY), st.text(max_size=30), st.integers().map(str))
KEEP, MISSING = object(), object()


@dataclass
class Target:
    """One POST form: the client that can see it, where it posts, and what a browser would send."""

    endpoint: str
    client: str
    action: str
    fields: dict[str, list[str]]


class _Forms(HTMLParser):
    """The POST forms of a page with their fields' browser values, and the page's links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, dict[str, list[str]]]] = []
        self.links: list[str] = []
        self._form: dict[str, list[str]] | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {}
            self.forms.append((a.get("method", "get").upper(), a.get("action", ""), self._form))
        elif self._form is not None and a.get("formaction"):  # a button posting the same fields elsewhere
            self.forms.append((self.forms[-1][0], a["formaction"], self._form))
        elif self._form is None or ("name" not in a and tag != "option"):
            return
        elif tag == "input" and a.get("type", "text") not in ("submit", "button", "image", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                self._form.setdefault(a["name"], [])
            else:
                self._form.setdefault(a["name"], []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.setdefault(self._textarea, []).append("")

    def handle_data(self, data):
        if self._textarea is not None and self._form is not None:
            self._form[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self._form.setdefault(self._select, []).extend(chosen)
            self._select = None


def _world(app):
    """One agency with something on every page: a person in every portal, stays, a lease, money, papers."""
    with app.app_context():
        a = f.agency("alpha")
        staff = create_staff(a, email="admin@alpha.example", name="Ada Admin", password=f.PASSWORD, admin=True)
        who = f.person(a, "Alex Everyone", "alex@example.com", roles=["tenant", "guest", "owner", "vendor"])
        f.person(a, "Bea Guest", "bea@example.com", roles=["guest"])
        u = f.unit(a, f.prop(a, "Seafront"), "1A")
        lease = f.lease(a, u, who)
        rent = f.charge(a, lease=lease)
        today = date.today()
        here = f.booking(a, u, who, arrival=today - timedelta(days=1), departure=today + timedelta(days=3))
        f.booking(a, f.unit(a, name="2B"), who, arrival=today + timedelta(days=1), departure=today + timedelta(days=5))
        arriving = f.booking(a, f.unit(a, name="3C"), who, arrival=today, departure=today + timedelta(days=2))
        stays.add_option(arriving, stays.options_for(arriving)[0]["key"])
        here.checked_in_at = here.created_at
        f.charge(a, booking=here, amount="300.00", description="Stay")
        paid = f.charge(a, lease=lease, amount="500.00", description="Deposit top-up")  # the refund form
        pay(paid, who, paid.amount, channel="office")
        appointment = f.appointment(a, who)
        # A violation notice and an insurance quote waiting in each of Alex's tenant and guest portals (the
        # notices' documents older than the lease to sign, which the crawl opens first).
        for on in ({"lease_id": lease.id}, {"booking_id": here.id}):
            violations.record(a.id, {**on, "category": "noise", "rule": "Quiet hours", "description": "Loud.",
                                     "observed_on": a.today()}, staff)
            quotes.create_quote(a.id, {**on, "insurer": "Sol", "product": "Cover", "cover": "All",
                                       "premium": Decimal("20"), "currency": "EUR",
                                       "valid_until": a.today() + timedelta(days=5)}, staff)
        db.session.add(Document(agency_id=a.id, person_id=who.id, kind=DocumentKind.AGREEMENT, title="Lease",
                                body="Terms", requires_signature=True))
        # Alex's jobs as a vendor: one scheduled (its steps, estimate, photos, message), one completed with a
        # draft invoice (the invoice form, and sending a draft).
        for status in (WorkStatus.SCHEDULED, WorkStatus.COMPLETED):
            job = submit_request(who, u, "repair", f"Job {status.value}", "Work.")
            job.vendor_id, job.status = who.id, status
        create_invoice(job, who, number="D-1", lines=[{"description": "Work", "quantity": "1", "unit_price": "9"}])
        u.owners.append(who)  # Alex's owner portal: an order and an invoice wait for their approval
        # (another vendor's: the crawl opens two pages of a kind, and Alex's two vendor jobs must be those)
        owner_world.waiting_on(u, f.person(a, "Vera Vendor", "vera@example.com", roles=["vendor"]), f.staff(a))
        # Invoices to decide on and to pay; the newest orders (crawled first): one to invoice, one to triage.
        vendor = f.person(a, "Vic Vendor", "vic@example.com", roles=["vendor"])
        for number, approve in (("INV-1", True), ("INV-2", False)):
            done = submit_request(who, u, "repair", f"Job {number}", "Done.")
            done.vendor_id, done.status = vendor.id, WorkStatus.COMPLETED
            invoice = create_invoice(done, vendor, number=number,
                                     lines=[{"description": "Work", "quantity": "1", "unit_price": "50.00"}])
            invoice_ops.submit(invoice)
            if approve:
                invoice_ops.approve(invoice, staff=staff)
        done = submit_request(who, u, "repair", "Finished job", "Done.")
        done.vendor_id, done.status = vendor.id, WorkStatus.COMPLETED
        submit_request(who, u, "repair", "Dripping tap", "The kitchen tap drips.", lease_id=lease.id)
        # An applicant waiting for Alex (the owner), one just in; 1A's public application form is open.
        u.accepting_applications = True
        applicant = applicant_ops.submit(u, kind="tenant", name="Ana Applicant", email="ana@example.com",
                                         move_in=today + timedelta(days=30), source="staff", by=staff)
        applicant_ops.send_to_owner(applicant, staff)
        applicant_ops.submit(u, kind="booking", name="Ben Booker", email="ben@example.com",
                             arrival=today + timedelta(days=9), departure=today + timedelta(days=12),
                             source="public_form")
        add_window(a.id, "tenant.pay", 28, 28)
        create_key(a.id, "Sweep PMS", "read-write", staff.id)  # its revoke form under Settings
        solution = f.solution(a)
        f.solution(a, active=False, name="Switched off")
        db.session.add(Task(agency_id=a.id, solution_id=solution.id, notification_id=solution.notifications[0].id,
                            object_type="booking", object_id=here.id, due_at=here.created_at,
                            status=TaskStatus.FAILED, reason="SMTP said no"))
        # Alex's account as an owner: last month's statement as a draft (regenerate, send) and money asked of
        # them (pay it in the portal, withdraw it in the back office).
        accounting.generate(who, previous_month(today.replace(day=1)), a.currency)
        request_contribution(who, Decimal("120.00"), a.currency, "Reserve")
        # A survey to build and send (its questions' forms), and Alex's links to answer it and to review a stay.
        survey = make_survey(a, trigger=None)
        past = f.booking(a, f.unit(a, name="4D"), who, arrival=today - timedelta(days=9),
                         departure=today - timedelta(days=5))
        used = links.create("pay", rent, who)
        links.consume(used)
        seeds = [links.url(links.create("pay", rent, who)), links.url(links.create("appointment", appointment, who)),
                 links.url(used), f"/alpha/apply/{u.id}",
                 links.url(links.create("survey", survey_ops.invite(survey, who), who)),
                 links.url(links.create("review", past, who))]
        # Integrations: an iCal one reading 1A's calendar (its run refused an event; the other units can get
        # a feed) and a CSV one (the upload form); every unit's calendar is exported (its New URL and Revoke).
        from portal.integrations import operations as integration_ops
        from portal.integrations.models import Feed, Integration, IntegrationKind
        from portal.integrations.stays import finish_run, record_error, start_run
        from portal.properties.models import Unit

        ical = Integration(agency_id=a.id, name="Airbnb calendars", kind=IntegrationKind.ICAL)
        db.session.add_all([ical, Integration(agency_id=a.id, name="Spreadsheets", kind=IntegrationKind.CSV)])
        db.session.flush()
        db.session.add(Feed(agency_id=a.id, integration_id=ical.id, unit_id=u.id,
                            url="https://www.airbnb.com/calendar/ical/1.ics"))
        run = start_run(ical, "manual", 1)
        record_error(run, "feed of 1A", "The feed answered 500.", "https://www.airbnb.com/calendar/ical/1.ics")
        finish_run(run)
        for each in db.session.scalars(select(Unit)):
            integration_ops.create_export(each)
        # Alex last looked at the owner portal yesterday: its home lists what is new, with "mark all as seen".
        for account in who.accounts:
            account.last_seen_at = account.previous_seen_at = clock.now() - timedelta(days=1)
        person_id = who.id
        db.session.commit()
    return person_id, [urlsplit(s).path for s in seeds]


def _harvest(app, url: str, html: str, found: dict[str, Target], name: str) -> list[str]:
    """Keep the first form seen for each route and method (GET forms are filters); return the page's links."""
    adapter = app.url_map.bind("localhost")
    parser = _Forms()
    parser.feed(html)
    for method, action, fields in parser.forms:
        target = urlsplit(urljoin(url, action or url)).path
        try:
            endpoint, _ = adapter.match(target, method=method)
        except Exception:
            continue
        key = endpoint if method == "POST" else f"GET {endpoint}"
        found.setdefault(key, Target(key, name, target, fields))
    return parser.links


def _crawl(app, client, seeds: list[str], found: dict[str, Target], name: str, limit: int = 120) -> None:
    """Visit the pages reachable from `seeds` (GET only) and keep the first form seen for each POST route."""
    queue, seen, shapes = list(seeds), set(), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        shape = re.sub(r"/\d+", "/#", path)  # two pages of a kind show its forms; more only take time
        if path in seen or shapes.get(shape, 0) >= 2:
            continue
        seen.add(path)
        shapes[shape] = shapes.get(shape, 0) + 1
        response = client.get(url)
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        if "html" not in response.content_type:
            continue  # dead-link and error pages have forms too (e-mail me a fresh link)
        for href in _harvest(app, url, response.text, found, name):
            parts = urlsplit(urljoin(url, href))
            if (parts.netloc in ("", "localhost") and parts.path.startswith(("/manage", "/alpha", "/l/"))
                    and parts.path not in seen):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))


def _counts(app) -> dict[str, int]:
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in AUDIT_TABLES]
    with db.engine().connect() as conn:
        row = conn.execute(text("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables))).one()
    return dict(zip(tables, row, strict=True))


def _field_values(defaults: list[str]):
    choices = [st.just(KEEP)] * 3 + [st.just(MISSING), junk_value, st.lists(junk_value, min_size=2, max_size=3)]
    if defaults:
        choices.append(st.just([defaults[0], defaults[0]]))  # a list where one value is expected
    return st.one_of(choices)


def _send(app, client, target: Target, data: dict[str, object]) -> None:
    """One request: never a 500; a refusal (4xx), or any GET, writes nothing."""
    with app.app_context():
        before = _counts(app)
    if target.endpoint.startswith("GET "):
        response = client.get(target.action, query_string={"page": "9" * 400, **data})
    else:
        response = client.post(target.action, data=data)
    assert response.status_code < 500, f"{target.endpoint} {target.action} {data!r:.2000}"
    if 400 <= response.status_code < 500 or target.endpoint.startswith("GET "):
        with app.app_context():
            after = _counts(app)
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        assert not changed, f"{target.endpoint} {target.action} answered {response.status_code} but wrote {changed}"


def _sweep(app, client, target: Target) -> None:
    names = [n for n in target.fields if n not in ("csrf_token", "form_token")]

    @settings(max_examples=EXAMPLES_PER_FORM, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({n: _field_values(target.fields[n]) for n in names}),
           st.dictionaries(st.sampled_from(["id", "agency_id", "person_id", "amount", "__proto__"]), junk_value,
                           max_size=2))
    def post(values, extra):
        data: dict[str, object] = {k: v for k, v in target.fields.items() if k in ("csrf_token", "form_token")}
        for name, value in values.items():
            if value is KEEP:
                data[name] = target.fields[name]
            elif value is not MISSING:
                data[name] = value
        data.update({k: v for k, v in extra.items() if k not in data})
        _send(app, client, target, data)

    for value in EVERYWHERE:
        _send(app, client, target, {**target.fields, **dict.fromkeys(names, value)})
    post()


def test_junk_posted_to_every_form_is_never_a_500_and_a_refusal_writes_nothing(app, login):
    person_id, link_paths = _world(app)
    staff = app.test_client()
    page = staff.get("/manage/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    assert staff.post("/manage/login", data={"email": "admin@alpha.example", "password": f.PASSWORD,
                                              "csrf_token": token}).status_code == 302
    clients = {"person": signed_in_client(app, person_id), "staff": staff, "anonymous": app.test_client()}
    found: dict[str, Target] = {}
    _crawl(app, clients["person"], ["/alpha/", *(f"/alpha/{r}/" for r in ("tenant", "guest", "owner", "vendor"))],
           found, "person")
    _crawl(app, clients["anonymous"], ["/manage/login", "/alpha/", *link_paths,
                                       *(f"/alpha/{r}/login" for r in ("tenant", "guest", "owner", "vendor"))],
           found, "anonymous")
    # The work orders and invoices lists first: their newest rows (an order to triage and one to invoice, an
    # invoice to decide and one to pay) are the two pages of each kind crawled, before the dashboard's links
    # to what waits for an approval.
    _crawl(app, staff, ["/manage/work-orders", "/manage/invoices", "/manage/", "/manage/agency"], found, "staff",
           limit=250)
    for role in ("tenant", "guest", "owner", "vendor"):  # the code form comes after asking for a sign-in
        url = f"/alpha/{role}/login"
        form = found[f"{role}.login"].fields
        asked = clients["anonymous"].post(url, data={**form, "email": "alex@example.com"})
        _harvest(app, url, asked.text, found, "anonymous")

    posts = {r.endpoint for r in app.url_map.iter_rules()
             if "POST" in r.methods and r.endpoint.startswith(FORM_PREFIXES)}
    missing = posts - set(found) - set(NOT_SWEPT)
    assert sum(key.startswith("GET ") for key in found) >= 3  # the lists' filter forms
    assert not missing, f"POST routes with no form reachable by the sweep: {sorted(missing)}"

    # The back office last (its forms may take portal access away), and in each part the forms that
    # delete or cancel after the ones that edit what they remove.
    order = ("anonymous", "person", "staff")
    for target in sorted((t for t in found.values() if t.endpoint not in NOT_SWEPT),
                         key=lambda t: (order.index(t.client), bool(FINAL.search(t.endpoint)), t.endpoint)):
        _sweep(app, clients[target.client], target)


@pytest.fixture
def manager(app, client, login):
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        f.lease(a, f.unit(a, f.prop(a, "Seafront"), "1A"), f.person(a, "Tom Tenant", "tom@example.com"))
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize(("url", "field", "value", "message"), [
    ("/manage/units/new", "bedrooms", "9" * 400, "Enter a number between 0 and 50."),
    ("/manage/units/new", "capacity", "9" * 400, "Enter a number between 1 and 100."),
    ("/manage/leases/new", "rent_day", "9" * 400, "Enter a number between 1 and 28."),
    ("/manage/bookings/new", "adults", "-" + "9" * 400, "Enter a number between 1 and 100."),
    ("/manage/appointments/new", "duration_minutes", "9" * 400, "Enter a number between 5 and 1440."),
    ("/manage/units/new", "capacity", "٣", "Enter a whole number."),
    ("/manage/leases/new", "rent", "1E+999999999999", "Enter an amount such as 120.50."),
    ("/manage/bookings/new", "amount_due", "1E+99", "That amount is too large."),
    ("/manage/bookings/new", "amount_due", "99999999999999", "That amount is too large."),
    ("/manage/charges/new", "amount", "-1E+999999999999", "Enter an amount such as 120.50."),
    ("/manage/people/new", "roles", "", "is not a valid choice"),
    ("/manage/people/new", "roles", "landlord", "is not a valid choice"),
    ("/manage/units/new", "property_id", "٣", "Invalid Choice"),
    ("/manage/appointments/new", "starts_at", "9999-12-31T23:59", "Enter a date between 1900 and 2200."),
])
def test_out_of_range_numbers_and_choices_are_form_errors(app, manager, url, field, value, message):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', manager.get(url).text).group(1)
    with app.app_context():
        before = _counts(app)
    response = manager.post(url, data={"csrf_token": token, "name": "Olga", field: value})
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        assert _counts(app) == before
