"""Violation notices end to end: staff record one in the back office (with photos), the occupant gets the
notice at the SMTP server with a one-time link; opening it changes nothing, pressing acknowledge or dispute
(a dispute needs a comment) answers it once; the portal answers it too; withdrawing it in the back office
kills the link; the photos are served to staff and to the occupant concerned only."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.documents.models import Document
from portal.files import storage
from portal.links.models import ActionLink
from portal.violations.models import Violation, ViolationEvent, ViolationPhoto, ViolationStatus
from tests.conftest import csrf_token, press_link, send_due, signed_in_client, staff_client, token_of
from tests.workorders.test_files import PDF, jpeg


def record(c, on: str, **data):
    page = c.get("/manage/violations/new")
    fields = {"csrf_token": csrf_token(page.text), "occupancy": on, "category": "noise",
              "rule": "Quiet hours 22:00 to 08:00", "description": "Loud music until 2 am, neighbours complained.",
              "observed_on": date.today().isoformat(), **data}
    return c.post("/manage/violations/new", data=fields, content_type="multipart/form-data")


def mail_to(smtp_server, address: str):
    found = [m for m in smtp_server.messages if address in m["To"] and m["Subject"].startswith("Violation notice")]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in smtp_server.messages]
    return found[0]


def state(app) -> list[tuple]:
    """Every notice and its steps, as the database has them."""
    with app.app_context():
        rows = db.session.scalars(select(Violation).order_by(Violation.id).execution_options(all_agencies=True))
        return [(v.id, v.status, v.version, v.response_comment, v.responded_at,
                 [(e.action, e.source, e.person_id, e.note) for e in v.events]) for v in rows]


def one_id(app) -> int:
    [row] = state(app)
    return row[0]


def test_the_tenant_acknowledges_the_notice_from_the_mail(app, occupants, login, run_jobs, smtp_server):
    c = staff_client(app, login)
    r = record(c, f"lease:{occupants['lease']}")
    assert r.status_code == 302, r.text
    send_due(app, run_jobs)
    mail = mail_to(smtp_server, "tom@example.com")
    assert mail["Subject"] == "Violation notice: Quiet hours 22:00 to 08:00 at 1A"
    body = mail.get_body(("plain",)).get_content()
    assert "Loud music until 2 am" in body and "Seafront · 1A" in body
    token = token_of(mail)
    before = state(app)
    tenant = app.test_client()
    page = tenant.get(f"/l/{token}")
    assert page.status_code == 200
    for shown in ("Quiet hours 22:00 to 08:00", "Loud music until 2 am", "Acknowledge the notice", "Dispute it"):
        assert shown in page.text, shown
    assert state(app) == before  # opening the link changed nothing
    done = press_link(tenant, token, choice="acknowledge", comment="Sorry, it will not happen again.")
    assert done.status_code == 200 and "You acknowledged the notice" in done.text
    [(vid, status, _, comment, responded, events)] = state(app)
    assert status == ViolationStatus.ACKNOWLEDGED and comment == "Sorry, it will not happen again."
    assert responded is not None
    assert events[-1] == ("acknowledge", "link", occupants["tenant"], "Sorry, it will not happen again.")
    # The link is used: a second press (and a second opening) says so, and changes nothing.
    form_token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    again = tenant.post(f"/l/{token}", data={"form_token": form_token, "choice": "dispute", "comment": "No"})
    assert again.status_code == 410 and "already answered (acknowledged)" in again.text
    assert tenant.get(f"/l/{token}").status_code == 410
    assert state(app)[0][1] == ViolationStatus.ACKNOWLEDGED
    # Staff see the answer on the notice's page.
    detail = c.get(f"/manage/violations/{vid}")
    assert "Sorry, it will not happen again." in detail.text and "Acknowledged by the occupant" in detail.text
    assert "by e-mail link" in detail.text


def test_a_dispute_needs_a_comment_and_a_refusal_changes_nothing(app, occupants, login, run_jobs, smtp_server):
    c = staff_client(app, login)
    assert record(c, f"lease:{occupants['lease']}").status_code == 302
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "tom@example.com"))
    tenant = app.test_client()
    before = state(app)
    empty = press_link(tenant, token, choice="dispute", comment="   ")
    assert empty.status_code == 400 and "Say why you dispute this notice." in empty.text
    assert state(app) == before
    nothing = press_link(tenant, token, comment="x")  # no choice at all
    assert nothing.status_code == 400 and "acknowledge or to dispute" in nothing.text
    assert state(app) == before
    done = press_link(tenant, token, choice="dispute", comment="It was the flat above, not mine.")
    assert done.status_code == 200 and "You disputed the notice" in done.text
    [(_, status, _, comment, _, events)] = state(app)
    assert status == ViolationStatus.DISPUTED and comment == "It was the flat above, not mine."
    assert events[-1][:2] == ("dispute", "link")


def test_withdrawn_in_the_back_office_the_link_is_dead(app, occupants, login, run_jobs, smtp_server):
    c = staff_client(app, login)
    assert record(c, f"lease:{occupants['lease']}").status_code == 302
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "tom@example.com"))
    vid = one_id(app)
    page = c.get(f"/manage/violations/{vid}")
    no_reason = c.post(f"/manage/violations/{vid}/withdraw", data={"csrf_token": csrf_token(page.text), "note": ""})
    assert no_reason.status_code == 422 and "Say why the notice is withdrawn." in no_reason.text
    assert state(app)[0][1] == ViolationStatus.OPEN
    r = c.post(f"/manage/violations/{vid}/withdraw",
               data={"csrf_token": csrf_token(page.text), "note": "Wrong flat: the noise came from 2A."})
    assert r.status_code == 302
    assert ("Notice withdrawn: its e-mail link no longer works, and the notice in Tom Tenant&#39;s documents now "
            "says so.") in c.get(r.headers["Location"]).text
    dead = app.test_client().get(f"/l/{token}")
    assert dead.status_code == 410 and "This notice was withdrawn" in dead.text
    assert state(app)[0][1] == ViolationStatus.WITHDRAWN
    with app.app_context():
        doc = db.session.scalar(select(Document).execution_options(all_agencies=True))
        assert doc.title.startswith("Withdrawn: Violation notice") and "Wrong flat" in doc.body
    # A withdrawn notice cannot be resolved or withdrawn again.
    again = c.post(f"/manage/violations/{vid}/resolve", data={"csrf_token": csrf_token(page.text), "note": "x"})
    assert again.status_code == 422 and "already withdrawn" in again.text


def test_the_guest_answers_in_the_portal_and_sees_the_photos_others_do_not(app, occupants, login, run_jobs,
                                                                           smtp_server):
    c = staff_client(app, login)
    r = record(c, f"booking:{occupants['booking']}", category="smoking", rule="No smoking indoors",
               photos=[(io.BytesIO(jpeg()), "ashtray.jpg")])
    assert r.status_code == 302, r.text
    vid = one_id(app)
    with app.app_context():
        [photo_id] = db.session.scalars(select(ViolationPhoto.id).execution_options(all_agencies=True)).all()
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "gina@example.com"))
    assert "1 photo" in app.test_client().get(f"/l/{token}").text
    # Staff and the guest see the photo; another guest, the tenant portal and another agency do not.
    for url, kind in ((f"/manage/violations/{vid}/photos/{photo_id}", "image/jpeg"),
                      (f"/manage/violations/{vid}/photos/{photo_id}/thumb", "image/jpeg")):
        with c.get(url) as served:
            assert served.status_code == 200 and served.headers["Content-Type"] == kind
    guest = signed_in_client(app, occupants["guest"])
    home = guest.get("/alpha/guest/")
    assert "Violation notice: Smoking: No smoking indoors" in home.text
    page = guest.get(f"/alpha/guest/violations/{vid}")
    assert page.status_code == 200 and f"/alpha/guest/violations/{vid}/photos/{photo_id}/thumb" in page.text
    with guest.get(f"/alpha/guest/violations/{vid}/photos/{photo_id}") as shot:
        assert shot.status_code == 200 and shot.headers["Content-Type"] == "image/jpeg"
        assert shot.headers["X-Content-Type-Options"] == "nosniff" and shot.data == jpeg()
    other = signed_in_client(app, occupants["other"])
    for url in (f"/alpha/guest/violations/{vid}", f"/alpha/guest/violations/{vid}/photos/{photo_id}",
                f"/alpha/tenant/violations/{vid}"):
        assert other.get(url).status_code == 404, url
    # A dispute without a comment is refused on the page; then the guest acknowledges.
    before = state(app)
    refused = guest.post(f"/alpha/guest/violations/{vid}/respond",
                         data={"csrf_token": csrf_token(page.text), "choice": "dispute", "comment": ""})
    assert refused.status_code == 422 and "Say why you dispute this notice." in refused.text
    assert state(app) == before
    done = guest.post(f"/alpha/guest/violations/{vid}/respond",
                      data={"csrf_token": csrf_token(page.text), "choice": "acknowledge", "comment": ""})
    assert done.status_code == 302
    assert state(app)[0][1] == ViolationStatus.ACKNOWLEDGED and state(app)[0][5][-1][:2] == ("acknowledge", "portal")
    # The mail's link died with the answer given in the portal, and says why.
    dead = app.test_client().get(f"/l/{token}")
    assert dead.status_code == 410 and "already answered (acknowledged)" in dead.text
    # Staff resolve it; the guest's page shows the resolution and no form.
    detail = c.get(f"/manage/violations/{vid}")
    assert c.post(f"/manage/violations/{vid}/resolve",
                  data={"csrf_token": csrf_token(detail.text), "note": "Cleaning fee waived."}).status_code == 302
    after = guest.get(f"/alpha/guest/violations/{vid}")
    assert "Cleaning fee waived." in after.text and "Acknowledge the notice" not in after.text


def test_the_notice_is_in_the_occupants_documents(app, occupants, login):
    c = staff_client(app, login)
    assert record(c, f"lease:{occupants['lease']}").status_code == 302
    tenant = signed_in_client(app, occupants["tenant"])
    docs = tenant.get("/alpha/tenant/documents")
    assert "Violation notice: Noise: Quiet hours 22:00 to 08:00" in docs.text


@pytest.mark.parametrize(("change", "message"), [
    ({"occupancy": ""}, "Choose either a lease or a booking."),
    ({"occupancy": "lease:999999"}, "Not a valid choice"),
    ({"rule": ""}, "This field is required."),
    ({"description": ""}, "This field is required."),
    ({"observed_on": (date.today() + timedelta(days=3)).isoformat()}, "cannot be in the future"),
    ({"observed_on": "yesterday"}, "This field is required."),
    ({"category": "murder"}, "Not a valid choice"),
    ({"photos": [(io.BytesIO(PDF), "scan.pdf")]}, "scan.pdf: That is a PDF, not a photo. Send a photo (JPEG or PNG)."),
    ({"photos": [(io.BytesIO(b"just text"), "notes.txt")]},
     "notes.txt: That is not a photo. Send a photo (JPEG or PNG)."),
    ({"photos": [(io.BytesIO(b""), "empty.jpg")]}, "empty.jpg: That file is empty. Send a photo (JPEG or PNG)."),
    ({"photos": [(io.BytesIO(jpeg() + b"<script>alert(1)</script>"), "poly.jpg")]}, "markup"),
])
def test_back_office_bad_input_is_a_form_error_and_nothing_is_kept(app, occupants, login, change, message):
    c = staff_client(app, login)
    with app.app_context():
        folder = storage.upload_dir() / str(occupants["agency"])
    files_before = set(folder.iterdir()) if folder.exists() else set()
    r = record(c, f"lease:{occupants['lease']}", **change)
    assert r.status_code == 422 and message in r.text, r.text[-3000:]
    with app.app_context():
        for model in (Violation, ViolationPhoto, ViolationEvent, Document, ActionLink):
            count = db.session.scalar(select(func.count()).select_from(model).execution_options(all_agencies=True))
            assert count == 0, model
    # No bytes outlive the refused form (a photo written before the refusal is removed again).
    assert (set(folder.iterdir()) if folder.exists() else set()) == files_before


def test_the_list_filters_by_status_property_and_kind(app, occupants, login):
    c = staff_client(app, login)
    assert record(c, f"lease:{occupants['lease']}").status_code == 302
    parking = record(c, f"booking:{occupants['booking']}", category="parking", rule="Park in your own bay")
    assert parking.status_code == 302
    listing = c.get("/manage/violations")
    assert "Quiet hours" in listing.text and "Park in your own bay" in listing.text
    parking = c.get("/manage/violations?category=parking")
    assert "Park in your own bay" in parking.text and "Quiet hours" not in parking.text
    leases = c.get("/manage/violations?on=lease&status=open")
    assert "Quiet hours" in leases.text and "Park in your own bay" not in leases.text
    assert "No violation notices match" in c.get("/manage/violations?status=resolved").text


def test_an_expired_link_to_an_open_notice_is_renewed_by_mail(app, occupants, login, run_jobs, smtp_server):
    c = staff_client(app, login)
    assert record(c, f"lease:{occupants['lease']}").status_code == 302
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "tom@example.com"))
    smtp_server.clear()
    with clock.frozen_at(datetime.now().astimezone() + timedelta(days=31)):
        tenant = app.test_client()
        dead = tenant.get(f"/l/{token}")
        assert dead.status_code == 410 and "E-mail me a fresh link" in dead.text
        renewed = tenant.post("/l/renew", data={"csrf_token": csrf_token(dead.text), "token": token})
        assert renewed.status_code == 200
    run_jobs()
    fresh = mail_to(smtp_server, "tom@example.com")
    assert "Acknowledge it, or dispute it with your comment" in fresh.get_body(("plain",)).get_content()
    assert press_link(app.test_client(), token_of(fresh), choice="acknowledge").status_code == 200
    assert state(app)[0][1] == ViolationStatus.ACKNOWLEDGED


def _document(app) -> Document:
    with app.app_context():
        doc = db.session.scalar(select(Document).execution_options(all_agencies=True))
        db.session.expunge(doc)
        return doc


def test_the_document_follows_the_notice_and_asks_for_an_answer_only_while_open(app, occupants, login):
    c = staff_client(app, login)
    assert record(c, f"lease:{occupants['lease']}").status_code == 302
    vid = one_id(app)
    tenant = signed_in_client(app, occupants["tenant"])
    assert "Please acknowledge this notice" in _document(app).body
    # The tenant disputes it in the portal: the document says so, and asks nothing more.
    page = tenant.get(f"/alpha/tenant/violations/{vid}")
    assert tenant.post(f"/alpha/tenant/violations/{vid}/respond", data={
        "csrf_token": csrf_token(page.text), "choice": "dispute", "comment": "It was the flat above."}
    ).status_code == 302
    doc = _document(app)
    assert doc.title == "Disputed: Violation notice: Noise: Quiet hours 22:00 to 08:00"
    assert doc.body.startswith("Disputed on ") and "Comment: It was the flat above." in doc.body
    assert "Please acknowledge" not in doc.body
    # Every list of documents shows the state through the title: the documents page and the home page.
    for url in ("/alpha/tenant/documents", "/alpha/tenant/"):
        assert "Disputed: Violation notice: Noise" in tenant.get(url).text, url
    shown = tenant.get(f"/alpha/tenant/documents/{doc.id}").text
    assert "Disputed on " in shown and "Please acknowledge" not in shown
    # Staff resolve it: the document says resolved, with the note.
    detail = c.get(f"/manage/violations/{vid}")
    assert c.post(f"/manage/violations/{vid}/resolve",
                  data={"csrf_token": csrf_token(detail.text), "note": "Spoke to 2A."}).status_code == 302
    doc = _document(app)
    assert doc.title.startswith("Resolved: Violation notice")
    assert doc.body.startswith("Resolved on ") and "Note: Spoke to 2A. Nothing more needs doing." in doc.body
    assert "Please acknowledge" not in doc.body
