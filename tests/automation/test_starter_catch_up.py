"""An agency made before a mail kind joined the catalogue gets the kind's starter template (and solution) later:
at `portico db upgrade` and from the automation back office's notice; never twice, never over what staff
edited, and never again after staff deleted it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select

from automation import starter
from automation.models import MailTemplate, Notification, Solution
from portal import db
from portal.agencies.models import Agency
from tests import factories as f
from tests.conftest import csrf_token

# The kinds issue 13 added: an agency made before them has none of their rows and no record of offers.
NEW = sorted(set(starter.TEMPLATES) - starter.BEFORE_RECORD)
BASE = "/manage/automation"


def _make_older(agency_id: int, keep: tuple[str, ...] = ()) -> None:
    """Turn an agency into one made with the older catalogue: no rows of the new kinds (but `keep`'s
    templates), no record of what it was offered."""
    db.scope(db.session, agency_id)
    gone = [k for k in NEW if k not in keep]
    solution_ids = select(Solution.id).where(Solution.kind.in_(NEW))
    db.session.execute(delete(Notification).where(Notification.solution_id.in_(solution_ids)))
    db.session.execute(delete(Solution).where(Solution.kind.in_(NEW)))
    db.session.execute(delete(MailTemplate).where(MailTemplate.name.in_([starter.template_name(k) for k in gone])))
    agency = db.session.get(Agency, agency_id)
    agency.settings = {k: v for k, v in agency.settings.items() if k != starter.OFFERED}
    db.session.commit()


def _older_agency(app, slug: str = "alpha", keep: tuple[str, ...] = ()) -> int:
    with app.app_context():
        a = f.agency(slug, starter=True)
        db.session.commit()
        _make_older(a.id, keep)
        return a.id


def _upgrade(app) -> str:
    from portal.cli import cli

    result = app.test_cli_runner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return result.output


def _state(app, agency_id: int) -> dict:
    with app.app_context():
        db.scope(db.session, agency_id)
        templates = {t.name: (t.subject, t.html_body, t.text_body, t.updated_at)
                     for t in db.session.scalars(select(MailTemplate))}
        solutions = {s.kind: s.active for s in db.session.scalars(select(Solution))}
        counts = (db.session.scalar(select(func.count(MailTemplate.id))),
                  db.session.scalar(select(func.count(Solution.id))))
        settings = dict(db.session.get(Agency, agency_id).settings)
    return {"templates": templates, "solutions": solutions, "counts": counts, "settings": settings}


def test_db_upgrade_gives_an_older_agency_the_new_kinds_with_only_the_workflow_mails_switched_on(app):
    agency_id = _older_agency(app)
    before = _state(app, agency_id)
    assert not any(starter.template_name(k) in before["templates"] for k in NEW)

    assert "1 agency checked" in _upgrade(app)

    after = _state(app, agency_id)
    for kind_name in NEW:
        assert after["templates"][starter.template_name(kind_name)][:3] == starter.TEMPLATES[kind_name][1:]
    # The feature's own step mails (staff send an applicant to the owner, record a notice, add a quote): on.
    for kind_name in ("applicant-owner-approval", "applicant-decision", "violation-notice", "insurance-quote"):
        assert after["solutions"][kind_name] is True, kind_name
    # Month end mails every owner with no step of staff's: added, but off until staff switch it on.
    assert after["solutions"]["owner-statement-ready"] is False
    assert "survey" not in after["solutions"]  # a new agency gets no survey solution either
    assert set(after["settings"][starter.OFFERED]) == set(starter.TEMPLATES)
    # What the agency had is as it was.
    for name, values in before["templates"].items():
        assert after["templates"][name] == values
    assert {k: v for k, v in after["solutions"].items() if k not in NEW} == before["solutions"]


def test_running_the_upgrade_twice_adds_nothing(app):
    agency_id = _older_agency(app)
    _upgrade(app)
    once = _state(app, agency_id)
    _upgrade(app)
    assert _state(app, agency_id) == once
    with app.app_context():  # and the operation itself finds nothing left to add
        assert starter.catch_up(db.session.get(Agency, agency_id)) == []


def test_a_template_staff_edited_is_left_as_it_is_and_gets_no_second_copy(app):
    agency_id = _older_agency(app, keep=("violation-notice",))
    with app.app_context():
        db.scope(db.session, agency_id)
        for name in (starter.template_name("violation-notice"), starter.template_name("rent-due")):
            tpl = db.session.scalar(select(MailTemplate).where(MailTemplate.name == name))
            tpl.subject = "Our own wording: {{ unit.name }}"
        db.session.commit()
    edited = _state(app, agency_id)["templates"]

    _upgrade(app)

    after = _state(app, agency_id)
    for name in (starter.template_name("violation-notice"), starter.template_name("rent-due")):
        assert after["templates"][name] == edited[name]
    # The agency had the notice's template, so it had been offered the kind: no solution is forced on it.
    assert "violation-notice" not in after["solutions"]
    assert starter.template_name("insurance-quote") in after["templates"]


def test_a_template_staff_deleted_is_not_added_again(app):
    # An agency with the record: staff deleted the insurance quote's solution and template on purpose.
    with app.app_context():
        a = f.agency("alpha", starter=True)
        db.session.commit()
        agency_id = a.id
        solution = db.session.scalar(select(Solution).where(Solution.kind == "insurance-quote"))
        template = solution.notifications[0].template
        db.session.delete(solution)
        db.session.flush()
        db.session.delete(template)
        db.session.commit()
    # An agency from before the record: staff deleted the rent reminder, a kind it was given at the start.
    older_id = _older_agency(app, slug="beta")
    with app.app_context():
        db.scope(db.session, older_id)
        db.session.execute(delete(Solution).where(Solution.kind == "rent-due"))
        db.session.execute(delete(MailTemplate).where(MailTemplate.name == starter.template_name("rent-due")))
        db.session.commit()

    assert "2 agencies checked" in _upgrade(app)

    assert starter.template_name("insurance-quote") not in _state(app, agency_id)["templates"]
    assert "insurance-quote" not in _state(app, agency_id)["solutions"]
    older = _state(app, older_id)
    assert starter.template_name("rent-due") not in older["templates"]
    assert starter.template_name("insurance-quote") in older["templates"]  # the new kinds did arrive


def test_an_agency_made_with_the_new_kinds_before_the_record_keeps_one_deleted_deleted(app):
    # Made by the release that installed the new kinds but kept no record; staff deleted the violation notice.
    with app.app_context():
        a = f.agency("alpha", starter=True)
        db.session.commit()
        agency_id = a.id
        db.session.execute(delete(Notification).where(Notification.solution_id.in_(
            select(Solution.id).where(Solution.kind == "violation-notice"))))
        db.session.execute(delete(Solution).where(Solution.kind == "violation-notice"))
        db.session.execute(delete(MailTemplate).where(
            MailTemplate.name == starter.template_name("violation-notice")))
        agency = db.session.get(Agency, agency_id)
        agency.settings = {k: v for k, v in agency.settings.items() if k != starter.OFFERED}
        db.session.commit()
    before = _state(app, agency_id)

    _upgrade(app)

    after = _state(app, agency_id)
    assert "violation-notice" not in after["solutions"]
    assert starter.template_name("violation-notice") not in after["templates"]
    assert after["counts"] == before["counts"]


def test_a_new_agency_is_recorded_as_offered_every_kind(app):
    with app.app_context():
        a = f.agency("alpha", starter=True)
        assert set(a.settings[starter.OFFERED]) == set(starter.TEMPLATES)
        assert starter.missing(a) == []


@pytest.fixture
def older_staff(app, client, login):
    agency_id = _older_agency(app)
    with app.app_context():
        db.scope(db.session, agency_id)
        f.staff(db.session.get(Agency, agency_id))
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    client.ids = SimpleNamespace(agency=agency_id)
    return client


@pytest.mark.parametrize("page", ["/", "/solutions", "/templates"])
def test_the_back_office_says_how_many_mail_types_are_new(older_staff, page):
    html = older_staff.get(BASE + page).text
    assert f"{len(NEW)} new mail types are available" in html
    assert "Send violation notices" in html and "Tell owners their monthly statement is ready" in html
    assert "Nothing is sent for the others until you switch them on." in html


def test_add_them_adds_the_new_kinds_and_the_notice_goes(app, older_staff):
    page = older_staff.get(f"{BASE}/solutions").text
    response = older_staff.post(f"{BASE}/starter", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/solutions")

    after = older_staff.get(f"{BASE}/solutions").text
    assert f"Added {len(NEW)} new mail types" in after
    assert "new mail types are available" not in after and 'id="new-kinds"' not in after
    state = _state(app, older_staff.ids.agency)
    assert all(starter.template_name(k) in state["templates"] for k in NEW)
    assert state["solutions"]["violation-notice"] is True and state["solutions"]["owner-statement-ready"] is False
    # A second press (say, from a stale page) adds nothing.
    counts = state["counts"]
    older_staff.post(f"{BASE}/starter", data={"csrf_token": csrf_token(page)})
    assert _state(app, older_staff.ids.agency)["counts"] == counts


def test_add_them_without_the_csrf_token_is_refused_and_adds_nothing(app, older_staff):
    counts = _state(app, older_staff.ids.agency)["counts"]
    assert older_staff.post(f"{BASE}/starter", data={}).status_code == 400
    assert _state(app, older_staff.ids.agency)["counts"] == counts


@pytest.mark.browser
def test_staff_add_the_new_mail_types_from_the_notice_in_a_browser(app, page):
    from playwright.sync_api import expect

    from tests.conftest import browser_staff_sign_in, screenshots

    agency_id = _older_agency(app)
    with app.app_context():
        db.scope(db.session, agency_id)
        f.staff(db.session.get(Agency, agency_id))
        db.session.commit()
    browser_staff_sign_in(page)
    page.goto(f"{BASE}/solutions")
    notice = page.locator("#new-kinds")
    expect(notice).to_contain_text(f"{len(NEW)} new mail types are available")
    screenshots(page, "automation-new-kinds")
    notice.get_by_role("button", name="Add them").click()
    expect(page.get_by_text(f"Added {len(NEW)} new mail types")).to_be_visible()
    expect(page.locator("#new-kinds")).to_have_count(0)
    row = page.locator("tr", has_text="Tell owners their monthly statement is ready")
    expect(row.get_by_role("button", name="Activate")).to_be_visible()  # added switched off
    expect(page.locator("tr", has_text="Send violation notices").get_by_role("button", name="Deactivate")) \
        .to_be_visible()
    screenshots(page, "automation-new-kinds-added")
