"""The least a link GET can do, for comparison: Core SQL, a one-line template, and (unless
FLOOR_AUDIT=0) the audit INSERT every open needs. Not part of the product."""

import os
from datetime import UTC, datetime

from flask import Flask, request
from itsdangerous import URLSafeSerializer
from sqlalchemy import text

from portal.db import make_engine

engine = make_engine(os.environ["DATABASE_URL"])
app = Flask(__name__)
signer = URLSafeSerializer([os.environ["SECRET_KEYS"]], salt="portico.link.pay")
PAGE = "<!doctype html><title>{{ d }}</title><h1>{{ d }}</h1><form method=post><button>Pay</button></form>"
AUDIT = os.environ.get("FLOOR_AUDIT", "1") == "1"
LINK_PAGE = app.jinja_env.from_string(PAGE)  # compiled once, as Flask does for template files


@app.get("/l/<token>")
def show(token: str):
    link_id = signer.loads(token.split("~", 1)[1])["id"]
    with engine.begin() as conn:
        link = conn.execute(
            text("SELECT l.object_id, a.id FROM action_links l JOIN agencies a ON a.id = l.agency_id "
                 "JOIN people p ON p.id = l.person_id WHERE l.id = :id"), {"id": link_id}).one()
        charge = conn.execute(text("SELECT description, amount FROM charges WHERE id = :id AND agency_id = :a"),
                              {"id": link.object_id, "a": link.id}).one()
        html = LINK_PAGE.render(d=f"Pay {charge.amount} for {charge.description}")
        if AUDIT:
            conn.execute(
                text("INSERT INTO link_events (link_id, at, method, outcome, ip, user_agent) "
                     "VALUES (:l, :at, 'GET', 'open-ok', :ip, :ua)"),
                {"l": link_id, "at": datetime.now(UTC).replace(tzinfo=None), "ip": request.remote_addr,
                 "ua": request.user_agent.string},
            )
    return html


# The least a tenant home page can do: the session lookup and the page's lists, each one
# indexed Core query, no authorization rules, a flat template.
app.secret_key = os.environ["SECRET_KEYS"].split(",")[0]
HOME = """<!doctype html><title>{{ person.name }}</title><h1>Welcome, {{ person.name }}</h1>
{% for name, rows in lists %}
<h2>{{ name }}</h2><ul>{% for r in rows %}<li>{{ r[1] }}</li>{% endfor %}</ul>{% endfor %}"""
HOME_PAGE = app.jinja_env.from_string(HOME)
LISTS = [
    ("Due", "SELECT id, description, amount FROM charges WHERE agency_id = :a AND person_id = :p AND status = 'open' "
            "ORDER BY due_date LIMIT 20"),
    ("Paid", "SELECT id, description, amount FROM charges WHERE agency_id = :a AND person_id = :p AND status = 'paid' "
             "ORDER BY due_date DESC LIMIT 10"),
    ("Appointments", "SELECT id, title FROM appointments WHERE agency_id = :a AND person_id = :p LIMIT 5"),
    ("Requests", "SELECT id, title FROM work_orders WHERE agency_id = :a AND requester_id = :p "
                 "ORDER BY created_at DESC LIMIT 5"),
    ("Documents", "SELECT id, title FROM documents WHERE agency_id = :a AND person_id = :p "
                  "ORDER BY created_at DESC LIMIT 5"),
    ("Messages", "SELECT id, subject FROM messages WHERE agency_id = :a AND person_id = :p AND status = 'sent' "
                 "ORDER BY created_at DESC LIMIT 5"),
]


@app.get("/<agency>/tenant/")
def tenant_home(agency: str):
    from flask import abort, session

    with engine.connect() as conn:
        person = conn.execute(
            text("SELECT p.id, p.name, p.agency_id FROM sessions s JOIN people p ON p.id = s.person_id "
                 "JOIN agencies a ON a.id = s.agency_id WHERE s.token = :t AND s.kind = 'portal' AND a.slug = :slug"),
            {"t": session.get("portal_session", ""), "slug": agency}).first()
        if person is None:
            abort(404)
        lists = [(name, conn.execute(text(sql), {"a": person.agency_id, "p": person.id}).all())
                 for name, sql in LISTS]
    return HOME_PAGE.render(person=person, lists=lists)
