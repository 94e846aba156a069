"""/api/v1/documents (metadata, never the text) and /api/v1/messages (the log, one-time links described; a one-off
e-mail that reaches the SMTP server)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import db, links, mail
from portal.agencies.models import Agency
from portal.documents.models import DocumentKind
from portal.documents.operations import save_document, sign
from portal.messages.models import Message
from tests import factories as f
from tests.api.checks import error, other_agency, reader


@pytest.fixture
def papers(app, alpha):
    """Tom's lease with a signed agreement and an unsigned notice; Gina's booking with a letter; a pay link mailed
    to Tom for his rent."""
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        lease = f.lease(a)
        tom = lease.tenant
        gina = f.person(a, "Gina Guest", "gina@example.com", roles=["guest"])
        booking = f.booking(a, f.unit(a, name="2B"), gina)
        agreement = save_document(None, a.id, {"person_id": tom.id, "kind": DocumentKind.AGREEMENT,
                                               "title": "Tenancy agreement", "body": "The terms.",
                                               "requires_signature": True, "lease_id": lease.id})
        sign(agreement, tom, "Tom Tenant", "127.0.0.1", "tests")
        notice = save_document(None, a.id, {"person_id": tom.id, "kind": DocumentKind.NOTICE, "title": "Rent review",
                                            "body": "Rent goes up.", "requires_signature": True})
        letter = save_document(None, a.id, {"person_id": gina.id, "kind": DocumentKind.LETTER, "title": "Welcome",
                                            "body": "Hello.", "booking_id": booking.id})
        rent = f.charge(a, lease=lease)
        link = links.create("pay", rent, tom)
        mailed = mail.send(to=tom.email, subject="Your rent", text=f"Pay here: {links.placeholder(link)}",
                           person=tom, about=rent)
        db.session.commit()
        return {"agreement": agreement.id, "notice": notice.id, "letter": letter.id, "tom": tom.id,
                "gina": gina.id, "lease": lease.id, "booking": booking.id, "lease_unit": lease.unit_id,
                "booking_unit": booking.unit_id, "mailed": mailed.id, "rent": rent.id, "token": links.token(link)}


def test_documents_metadata_list_filters_and_get(api, papers):
    everything = api.get("/api/v1/documents").json
    assert everything["total"] == 3
    assert [d["title"] for d in everything["items"]] == ["Welcome", "Rent review", "Tenancy agreement"]
    agreement = api.get(f"/api/v1/documents/{papers['agreement']}")
    assert agreement.status_code == 200 and agreement.headers["ETag"]
    assert agreement.json == {**agreement.json, "kind": "agreement", "person_id": papers["tom"],
                              "lease_id": papers["lease"], "booking_id": None, "unit_id": papers["lease_unit"],
                              "requires_signature": True, "signed": True}
    assert "body" not in agreement.json and "The terms." not in agreement.text
    letter = api.get(f"/api/v1/documents/{papers['letter']}").json
    assert (letter["unit_id"], letter["signed"], letter["booking_id"]) == (papers["booking_unit"], False,
                                                                          papers["booking"])

    def titles(query: str) -> list[str]:
        return [d["title"] for d in api.get(f"/api/v1/documents?{query}").json["items"]]

    assert titles("signed=true") == ["Tenancy agreement"]
    assert titles(f"signed=false&person_id={papers['tom']}") == ["Rent review"]
    assert titles("kind=letter") == ["Welcome"]
    assert titles(f"lease_id={papers['lease']}") == ["Tenancy agreement"]
    assert titles(f"booking_id={papers['booking']}&per_page=1") == ["Welcome"]
    page2 = api.get("/api/v1/documents?per_page=2&page=2").json
    assert [d["title"] for d in page2["items"]] == ["Tenancy agreement"] and page2["next"] is None
    assert error(api.get("/api/v1/documents?signed=maybe"), 422, "invalid")["fields"].keys() == {"signed"}
    assert error(api.open("POST", "/api/v1/documents", json={}), 405, "method_not_allowed")


def test_messages_show_the_log_with_links_described(api, papers, app):
    listed = api.get("/api/v1/messages").json
    assert listed["total"] == 1
    message = api.get(f"/api/v1/messages/{papers['mailed']}").json
    assert (message["subject"], message["status"], message["person_id"], message["about_type"],
            message["about_id"]) == ("Your rent", "queued", papers["tom"], "charge", papers["rent"])
    assert message["text"].startswith("Pay here: [one-time payment link, expires ")
    assert papers["token"] not in str(message) and "portico-link" not in str(message)
    assert api.get(f"/api/v1/messages?person_id={papers['gina']}").json["total"] == 0
    assert api.get("/api/v1/messages?status=sent").json["total"] == 0
    assert api.get(f"/api/v1/messages?about_type=charge&about_id={papers['rent']}").json["total"] == 1


def test_send_a_message_that_reaches_the_smtp_server(api, papers, app, run_jobs, smtp_server):
    sent = api.post("/api/v1/messages", json={"person_id": papers["gina"], "subject": "Late arrival",
                                              "body": "The key is in the box.\nCode 1234."},
                    headers={"Idempotency-Key": "msg-1"})
    assert sent.status_code == 201, sent.text
    assert (sent.json["status"], sent.json["to"], sent.json["text"]) == (
        "queued", "gina@example.com", "The key is in the box.\nCode 1234.")
    again = api.post("/api/v1/messages", json={"person_id": papers["gina"], "subject": "Late arrival",
                                               "body": "The key is in the box.\nCode 1234."},
                     headers={"Idempotency-Key": "msg-1"})
    assert again.json == sent.json and again.headers["Idempotent-Replayed"] == "true"
    run_jobs()
    delivered = [m for m in smtp_server.messages if m["Subject"] == "Late arrival"]
    assert len(delivered) == 1 and delivered[0]["To"] == "gina@example.com"
    assert "Code 1234." in delivered[0].get_body(("plain",)).get_content()
    assert api.get(sent.headers["Location"]).json["status"] == "sent"


def test_messages_refused_and_scoped(api, papers, app, alpha):
    with app.app_context():
        db.scope(db.session, alpha)
        nobody = f.person(db.session.get(Agency, alpha), "No Mail", None)
        db.session.commit()
        nobody_id = nobody.id
    no_address = api.post("/api/v1/messages", json={"person_id": nobody_id, "subject": "Hi", "body": "x"})
    assert error(no_address, 422, "invalid")["fields"] == {"person_id": ["This person has no e-mail address."]}
    two_lines = api.post("/api/v1/messages", json={"person_id": papers["gina"], "subject": "Hi\nBcc: x@y.z",
                                                   "body": "x"})
    assert error(two_lines, 422, "invalid")["fields"].keys() == {"subject"}

    beta = other_agency(app)
    assert error(beta.get(f"/api/v1/messages/{papers['mailed']}"), 404, "not_found")
    assert error(beta.get(f"/api/v1/documents/{papers['agreement']}"), 404, "not_found")
    assert beta.get("/api/v1/documents").json["total"] == 0 and beta.get("/api/v1/messages").json["total"] == 0
    stranger = beta.post("/api/v1/messages", json={"person_id": papers["gina"], "subject": "Hi", "body": "x"})
    assert error(stranger, 422, "invalid")["fields"] == {"person_id": ["No such record in your agency."]}
    read = reader(app, alpha)
    assert read.get("/api/v1/messages").status_code == 200
    assert error(read.post("/api/v1/messages", json={"person_id": papers["gina"], "subject": "Hi", "body": "x"}),
                 403, "read_only_key")
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id)).execution_options(all_agencies=True)) == 1
