"""Documents in the portals under the authorization engine, e-signing, and the back-office pages
that set every layer (A1-A4), Explain and View portal as."""

import hashlib
import re

import pytest
from sqlalchemy import func, select

from portal import db, links
from portal.agencies.models import StaffAudit
from portal.documents.models import Document, DocumentKind, Signature
from tests import factories as f
from tests.conftest import csrf_token, press_link


@pytest.fixture
def setup(app, client, login):
    """A manager signed in to `client`, and a tenant signed in to the returned portal client."""
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        f.staff(a)
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        ann = f.person(a, "Ann Tenant", "ann@example.com", roles=["tenant"])
        docs = {}
        for key, person, title, sign in [("notice", tom, "Rent increase notice", True),
                                         ("letter", tom, "Letter from the attorney", False),
                                         ("anns", ann, "Ann's lease", True)]:
            d = Document(agency_id=a.id, person_id=person.id, kind=DocumentKind.NOTICE, title=title,
                         body=f"{title}\n\nThe exact text.", requires_signature=sign)
            db.session.add(d)
            db.session.flush()
            docs[key] = d.id
        token = links.token(links.create("login", tom, tom))
        ids = {"tom": tom.id, "ann": ann.id, **docs}
        db.session.commit()
    login("manager@alpha.example", f.PASSWORD)
    tenant = app.test_client()
    press_link(tenant, token)
    return ids, tenant


def _sha(html):
    return re.search(r'name="sha256" value="([0-9a-f]{64})"', html).group(1)


def _staff_post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client.get("/manage/").text), **data})


def test_tenant_sees_own_documents_only(setup):
    ids, tenant = setup
    page = tenant.get("/alpha/tenant/documents").text
    assert "Rent increase notice" in page and "Letter from the attorney" in page
    assert "Ann&#39;s lease" not in page and "Ann's lease" not in page
    assert tenant.get(f"/alpha/tenant/documents/{ids['anns']}").status_code == 404


def test_excluded_document_is_invisible_in_list_and_by_url(setup, client):
    ids, tenant = setup
    r = _staff_post(client, f"/manage/documents/{ids['letter']}/rules", effect="exclude", who=str(ids["tom"]),
                    capability="tenant.documents.view")
    assert r.status_code == 302
    assert "Letter from the attorney" not in tenant.get("/alpha/tenant/documents").text
    assert tenant.get(f"/alpha/tenant/documents/{ids['letter']}").status_code == 404
    assert "Rent increase notice" in tenant.get("/alpha/tenant/documents").text
    # Explain says which layer decided.
    page = client.get(f"/manage/explain?person={ids['tom']}&capability=tenant.documents.view&document={ids['letter']}")
    assert "Not allowed" in page.text and "decided by <em>this item</em>" in page.text


def test_shared_with_every_tenant(setup, client):
    ids, tenant = setup
    _staff_post(client, f"/manage/documents/{ids['anns']}/rules", effect="include", who="everyone",
                capability="tenant.documents.view")
    assert "Ann&#39;s lease" in tenant.get("/alpha/tenant/documents").text
    assert tenant.get(f"/alpha/tenant/documents/{ids['anns']}").status_code == 200


def test_revoking_documents_for_one_person(setup, client):
    ids, tenant = setup
    _staff_post(client, f"/manage/people/{ids['tom']}/access", **{"tenant.documents.view": "revoke"})
    assert "No documents yet." in tenant.get("/alpha/tenant/documents").text
    _staff_post(client, f"/manage/people/{ids['tom']}/access", **{"tenant.documents.view": "inherit"})
    assert "Rent increase notice" in tenant.get("/alpha/tenant/documents").text


def test_agency_default_and_time_window(setup, client):
    ids, tenant = setup
    # A1: documents off for every tenant (the form posts only the boxes left checked).
    _staff_post(client, "/manage/access", **{"tenant.pay": "on"})
    assert "No documents yet." in tenant.get("/alpha/tenant/documents").text
    _staff_post(client, "/manage/access", **{"tenant.documents.view": "on"})
    # A4: signing off every day of the month: the sign form says when it is back.
    _staff_post(client, "/manage/access/windows", capability="tenant.documents.sign", first_day="1", last_day="31")
    page = tenant.get(f"/alpha/tenant/documents/{ids['notice']}").text
    assert "Type your full name" not in page
    refused = tenant.post(f"/alpha/tenant/documents/{ids['notice']}/sign",
                          data={"csrf_token": csrf_token(page), "typed_name": "Tom Tenant"})
    assert refused.status_code == 403
    assert "This is not available right now" in refused.text
    bad = _staff_post(client, "/manage/access/windows", capability="tenant.pay", first_day="20", last_day="5")
    assert bad.status_code in (302, 303)
    assert "Days run from 1 to 31" in client.get("/manage/access").text


def test_e_signing_records_the_exact_document(app, setup):
    ids, tenant = setup
    page = tenant.get(f"/alpha/tenant/documents/{ids['notice']}")
    empty = tenant.post(f"/alpha/tenant/documents/{ids['notice']}/sign",
                        data={"csrf_token": csrf_token(page.text), "typed_name": "  ", "sha256": _sha(page.text)})
    assert empty.status_code == 422 and "Type your full name to sign." in empty.text
    stale = tenant.post(f"/alpha/tenant/documents/{ids['notice']}/sign",
                        data={"csrf_token": csrf_token(page.text), "typed_name": "Tom Tenant", "sha256": "0" * 64})
    assert stale.status_code == 422 and "The document changed since you opened it" in stale.text
    ok = tenant.post(f"/alpha/tenant/documents/{ids['notice']}/sign",
                     data={"csrf_token": csrf_token(page.text), "typed_name": "Tom  Tenant", "sha256": _sha(page.text)},
                     headers={"User-Agent": "TestBrowser/1.0"})
    assert ok.status_code == 302
    assert "Signed by Tom Tenant" in tenant.get(f"/alpha/tenant/documents/{ids['notice']}").text
    again = tenant.post(f"/alpha/tenant/documents/{ids['notice']}/sign",
                        data={"csrf_token": csrf_token(page.text), "typed_name": "Tom Tenant"})
    assert again.status_code == 422
    with app.app_context():
        [signature] = db.session.scalars(select(Signature).execution_options(all_agencies=True)).all()
        body = db.session.scalar(select(Document.body).where(Document.id == ids["notice"])
                                 .execution_options(all_agencies=True))
        assert signature.document_sha256 == hashlib.sha256(body.encode()).hexdigest()
        assert signature.typed_name == "Tom Tenant"
        assert signature.user_agent == "TestBrowser/1.0" and signature.ip == "127.0.0.1"
    # An unsigned-by-design letter has no sign form and refuses a forged POST.
    letter = tenant.post(f"/alpha/tenant/documents/{ids['letter']}/sign",
                         data={"csrf_token": csrf_token(page.text), "typed_name": "Tom Tenant"})
    assert letter.status_code == 422


def test_signed_text_cannot_change(app, setup, client):
    ids, tenant = setup
    page = tenant.get(f"/alpha/tenant/documents/{ids['notice']}")
    signed = tenant.post(f"/alpha/tenant/documents/{ids['notice']}/sign",
                         data={"csrf_token": csrf_token(page.text), "typed_name": "Tom Tenant",
                               "sha256": _sha(page.text)})
    assert signed.status_code == 302
    edit = _staff_post(client, f"/manage/documents/{ids['notice']}/edit", person_id=ids["tom"], kind="notice",
                       title="Rent increase notice", body="Different words", requires_signature="y")
    assert edit.status_code == 422
    assert "its text can no longer change" in edit.text


def test_view_portal_as_is_read_only_and_audited(app, setup, client):
    ids, _tenant = setup
    page = client.get(f"/manage/people/{ids['tom']}/view-as/tenant/documents")
    assert page.status_code == 200
    assert "Viewing the tenant portal as Tom Tenant" in page.text
    assert '<fieldset disabled class="viewas">' in page.text
    assert "Rent increase notice" in page.text
    assert client.get(f"/manage/people/{ids['tom']}/view-as/owner/home").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(StaffAudit.id)).execution_options(all_agencies=True)) == 1


def test_another_persons_document_is_404_even_when_the_capability_is_off(setup, client):
    ids, tenant = setup
    _staff_post(client, f"/manage/people/{ids['tom']}/access", **{"tenant.documents.view": "revoke"})
    assert tenant.get(f"/alpha/tenant/documents/{ids['anns']}").status_code == 404
    assert tenant.get(f"/alpha/tenant/documents/{ids['notice']}").status_code == 403  # his own: says why


def test_revoked_capabilities_leave_the_home_page(app, setup, client, run_jobs):
    from portal import mail

    ids, tenant = setup
    with app.app_context():
        from portal.people.models import Person

        tom = db.session.scalar(select(Person).where(Person.id == ids["tom"]).execution_options(all_agencies=True))
        db.scope(db.session, tom.agency_id)
        mail.send(to=tom.email, subject="Private note", text="x", person=tom)
        db.session.commit()
    run_jobs()
    assert "Private note" in tenant.get("/alpha/tenant/").text
    _staff_post(client, f"/manage/people/{ids['tom']}/access", **{"tenant.messages.view": "revoke"})
    assert "Private note" not in tenant.get("/alpha/tenant/").text
    assert tenant.get("/alpha/tenant/messages").status_code == 403


def test_odd_numbers_in_back_office_forms_are_not_errors(setup, client):
    ids, _tenant = setup
    for url in ["/manage/explain?person=%C2%B2&capability=tenant.pay",
                "/manage/explain?person=99999999999999999999999&capability=tenant.pay&document=99999999999999999",
                "/manage/people?page=%C2%B2", "/manage/charges/new?lease_id=%C2%B2"]:
        assert client.get(url).status_code == 200, url
    r = _staff_post(client, "/manage/access/windows", capability="tenant.pay", first_day="²", last_day="5")
    assert r.status_code in (302, 303)
    r = _staff_post(client, f"/manage/documents/{ids['notice']}/rules", effect="exclude", who="²",
                    capability="tenant.documents.view")
    assert r.status_code == 302
