"""The least a link GET can do, for comparison: Core SQL, a one-line template, and (unless
FLOOR_AUDIT=0) the audit INSERT every open needs. Not part of the product."""

import os
from datetime import UTC, datetime

from flask import Flask, render_template_string, request
from itsdangerous import URLSafeSerializer
from sqlalchemy import text

from portal.db import make_engine

engine = make_engine(os.environ["DATABASE_URL"])
app = Flask(__name__)
signer = URLSafeSerializer([os.environ["SECRET_KEYS"]], salt="portico.link.pay")
PAGE = "<!doctype html><title>{{ d }}</title><h1>{{ d }}</h1><form method=post><button>Pay</button></form>"
AUDIT = os.environ.get("FLOOR_AUDIT", "1") == "1"


@app.get("/l/<token>")
def show(token: str):
    link_id = signer.loads(token.split("~", 1)[1])["id"]
    with engine.begin() as conn:
        link = conn.execute(
            text("SELECT l.object_id, a.id FROM action_links l JOIN agencies a ON a.id = l.agency_id "
                 "JOIN people p ON p.id = l.person_id WHERE l.id = :id"), {"id": link_id}).one()
        charge = conn.execute(text("SELECT description, amount FROM charges WHERE id = :id AND agency_id = :a"),
                              {"id": link.object_id, "a": link.id}).one()
        html = render_template_string(PAGE, d=f"Pay {charge.amount} for {charge.description}")
        if AUDIT:
            conn.execute(
                text("INSERT INTO link_events (link_id, at, method, outcome, ip, user_agent) "
                     "VALUES (:l, :at, 'GET', 'open-ok', :ip, :ua)"),
                {"l": link_id, "at": datetime.now(UTC).replace(tzinfo=None), "ip": request.remote_addr,
                 "ua": request.user_agent.string},
            )
    return html
