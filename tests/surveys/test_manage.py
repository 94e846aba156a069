"""The back office's surveys: built (questions added, moved, removed; fixed once answered), sent by hand to
chosen people, results aggregated as worked out by hand, CSV export; another agency's survey is never seen."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from portal import db, links
from portal.people.models import Person
from portal.surveys import operations as ops
from portal.surveys.models import Invitation, Question, Response, Survey
from tests import factories as f
from tests.conftest import csrf_token, press_link
from tests.surveys.world import make_survey


@pytest.fixture
def staff(app, client, login):
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        for name in ("Ann Tenant", "Bob Owner", "Cy Guest"):
            f.person(a, name, f"{name.split()[0].lower()}@example.com")
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return client


def test_staff_build_a_survey_and_send_it_to_chosen_people(app, staff, smtp_server, run_jobs):
    page = staff.get("/manage/surveys/new")
    token = csrf_token(page.text)
    assert staff.post("/manage/surveys/new", data={"csrf_token": token, "title": ""}).status_code == 422
    made = staff.post("/manage/surveys/new", data={"csrf_token": token, "title": "Your tenancy", "intro": "Hi",
                                                   "sends_after": ""})
    assert made.status_code == 302
    url = made.headers["Location"]
    sid = int(re.search(r"/surveys/(\d+)", url).group(1))
    add = f"/manage/surveys/{sid}/questions"
    for data in ({"prompt": "Overall?", "kind": "rating", "required": "y"},
                 {"prompt": "Best part?", "kind": "choice", "options": "Location\nPrice\n\nStaff", "required": "y"},
                 {"prompt": "Comments", "kind": "text"}):
        assert staff.post(add, data={"csrf_token": token, **data}).status_code == 302
    # A choice needs two different options; a kind that does not exist is a form error.
    one = staff.post(add, data={"csrf_token": token, "prompt": "Which?", "kind": "choice", "options": "Only"})
    assert one.status_code == 422 and "Give at least two options" in one.text
    assert staff.post(add, data={"csrf_token": token, "prompt": "X", "kind": "essay"}).status_code == 422
    # Options typed for a text (or rating) question are refused, not silently dropped.
    for kind in ("text", "rating"):
        typed = staff.post(add, data={"csrf_token": token, "prompt": "Why?", "kind": kind, "options": "A\nB"})
        assert typed.status_code == 422 and f"A {kind} question has no options" in typed.text
    with app.app_context():
        survey = db.session.scalar(select(Survey).execution_options(all_agencies=True))
        qids = [q.id for q in survey.questions]
        assert [(q.prompt, q.kind.value, q.options, q.required) for q in survey.questions] == [
            ("Overall?", "rating", [], True), ("Best part?", "choice", ["Location", "Price", "Staff"], True),
            ("Comments", "text", [], False)]
    move = staff.post(f"/manage/surveys/{sid}/questions/move",
                      data={"csrf_token": token, "question": str(qids[2]), "direction": "up"})
    assert move.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Question.id).order_by(Question.position)
                                  .execution_options(all_agencies=True)).all() == [qids[0], qids[2], qids[1]]
    detail = staff.get(url)
    assert detail.status_code == 200 and "Send it to people" in detail.text and "Ann Tenant" in detail.text

    with app.app_context():
        people = dict(db.session.execute(select(Person.name, Person.id).execution_options(all_agencies=True)).all())
    sent = staff.post(f"/manage/surveys/{sid}/send", data={"csrf_token": token,
                                                           "people": [people["Ann Tenant"], people["Cy Guest"]]})
    assert sent.status_code == 302
    assert "Survey sent to 2 people." in staff.get(url).text
    run_jobs()
    mails = sorted(smtp_server.messages, key=lambda m: m["To"])
    assert [m["To"] for m in mails] == ["Ann Tenant <ann@example.com>", "Cy Guest <cy@example.com>"]
    assert mails[0].get_body(("plain",)).get_content().startswith("Hello Ann,")
    assert mails[0]["Subject"] == "A few questions from us: Your tenancy"
    token_ann = re.search(r"/l/(\S+)", mails[0].get_body(("plain",)).get_content()).group(1)
    assert press_link(app.test_client(), token_ann, **{f"q{qids[0]}": "5", f"q{qids[1]}": "Price"}).status_code == 200

    # Answered: the questions are fixed now (the results would lose their meaning).
    assert "questions are fixed" in staff.get(url).text
    locked = staff.post(add, data={"csrf_token": token, "prompt": "Late question", "kind": "text"})
    assert locked.status_code == 422 and "can no longer change" in locked.text
    assert staff.post(f"/manage/surveys/{sid}/questions/remove",
                      data={"csrf_token": token, "question": str(qids[0])}).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Question.id)).execution_options(all_agencies=True)) == 3
    # Nobody chosen: a form error, nothing sent.
    nobody = staff.post(f"/manage/surveys/{sid}/send", data={"csrf_token": token})
    assert nobody.status_code == 422 and "Choose at least one person." in nobody.text
    run_jobs()
    assert len(smtp_server.messages) == 2


def _alpha():
    """The alpha agency, with the session scoped to it."""
    from portal import agencies

    a = agencies.get(db.session.scalar(select(Person.agency_id).execution_options(all_agencies=True)))
    db.scope(db.session, a.id)
    return a


def test_closing_a_survey_ends_its_links(app, staff):
    with app.app_context():
        survey = make_survey(_alpha(), trigger=None)
        ann = db.session.scalar(select(Person).where(Person.name == "Ann Tenant"))
        token = links.token(links.create("survey", ops.invite(survey, ann), ann))
        sid = survey.id
        db.session.commit()
    csrf = csrf_token(staff.get(f"/manage/surveys/{sid}").text)
    assert staff.post(f"/manage/surveys/{sid}/close", data={"csrf_token": csrf}).status_code == 302
    dead = app.test_client().get(f"/l/{token}")
    assert dead.status_code == 410 and "is closed and takes no more answers" in dead.text


def _answer(app, survey_id: int, name: str, answers: dict) -> None:
    """`name` (a new person) answers through the operations the link uses."""
    with app.app_context():
        a = _alpha()
        survey = db.session.get(Survey, survey_id)
        who = f.person(a, name, f"{name.lower()}@example.com")
        q = {question.prompt: question.id for question in survey.questions}
        ops.respond(ops.invite(survey, who, about="Flat 1A"), {f"q{q[k]}": v for k, v in answers.items()})
        db.session.commit()


def test_results_aggregate_as_worked_out_by_hand(app, staff):
    with app.app_context():
        sid = make_survey(_alpha(), trigger=None).id
        db.session.commit()
    rate, late, better = "How would you rate the work?", "Was the vendor on time?", "Anything we could do better?"
    # Ratings 5, 4, 4, 2: average 15 / 4 = 3.75; on time 3 yes, 1 very late; Fay skips the optional text.
    _answer(app, sid, "Dee", {rate: "5", late: "Yes", better: "Nothing, great"})
    _answer(app, sid, "Eli", {rate: "4", late: "Yes", better: "=SUM(A1)"})
    _answer(app, sid, "Fay", {rate: "4", late: "Very late"})
    _answer(app, sid, "Gus", {rate: "2", late: "Yes", better: "Come on time"})
    with app.app_context():
        _alpha()
        from portal.surveys.queries import results

        r = results(db.session.get(Survey, sid))
        assert (r.asked, r.responses) == (4, 4)
        rating, choice, text = r.questions
        assert str(rating.average) == "3.75" and rating.answered == 4
        assert rating.spread == [("5", 1), ("4", 2), ("3", 0), ("2", 1), ("1", 0)]
        assert choice.spread == [("Yes", 3), ("A little late", 0), ("Very late", 1)]
        assert text.answered == 3
        assert [(t.person, t.text) for t in text.texts] == [("Gus", "Come on time"), ("Eli", "=SUM(A1)"),
                                                           ("Dee", "Nothing, great")]
    page = staff.get(f"/manage/surveys/{sid}/results")
    assert page.status_code == 200
    for shown in ("4</strong> responses", "3.75", "Very late", "Come on time", "Gus", "Flat 1A"):
        assert shown in page.text, shown
    exported = staff.get(f"/manage/surveys/{sid}/results.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    # UTF-8 with a byte-order mark, so a spreadsheet reads accents and umlauts right.
    assert exported.data.startswith("\ufeff".encode()) and exported.mimetype_params.get("charset") == "utf-8"
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0] == ["Submitted", "Person", "About", rate, late, better]
    assert [r[1:] for r in rows[1:]] == [["Dee", "Flat 1A", "5", "Yes", "Nothing, great"],
                                         ["Eli", "Flat 1A", "4", "Yes", "'=SUM(A1)"],
                                         ["Fay", "Flat 1A", "4", "Very late", ""],
                                         ["Gus", "Flat 1A", "2", "Yes", "Come on time"]]


def test_one_person_asked_reads_in_the_singular(app, staff):
    """Sent to one person: "1 person asked", on the results and on the survey's own page."""
    with app.app_context():
        survey = make_survey(_alpha(), trigger=None)
        ops.invite(survey, db.session.scalar(select(Person).where(Person.name == "Ann Tenant")))
        sid = survey.id
        db.session.commit()
    results = staff.get(f"/manage/surveys/{sid}/results").text
    assert "1</strong> person asked" in results and "people asked" not in results
    detail = staff.get(f"/manage/surveys/{sid}").text
    assert "0 of 1 person asked" in detail and "people asked" not in detail


def test_another_agencys_survey_is_invisible(app, staff):
    with app.app_context():
        beta = f.agency("beta")
        theirs = make_survey(beta, title="Beta secrets", trigger=None)
        bea = f.person(beta, "Bea Beta", "bea@example.com")
        ops.respond(ops.invite(theirs, bea), {f"q{theirs.questions[0].id}": "1",
                                              f"q{theirs.questions[1].id}": "Yes"})
        sid, qid = theirs.id, theirs.questions[0].id
        db.session.commit()
    assert "Beta secrets" not in staff.get("/manage/surveys").text
    token = csrf_token(staff.get("/manage/surveys/new").text)
    for url in (f"/manage/surveys/{sid}", f"/manage/surveys/{sid}/results", f"/manage/surveys/{sid}/results.csv",
                f"/manage/surveys/{sid}/edit"):
        assert staff.get(url).status_code == 404, url
    for url, data in ((f"/manage/surveys/{sid}/questions", {"prompt": "x", "kind": "text"}),
                      (f"/manage/surveys/{sid}/questions/remove", {"question": str(qid)}),
                      (f"/manage/surveys/{sid}/close", {}), (f"/manage/surveys/{sid}/edit", {"title": "Mine"}),
                      (f"/manage/surveys/{sid}/send", {"people": "1"})):
        assert staff.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    with app.app_context():
        survey = db.session.scalar(select(Survey).where(Survey.id == sid).execution_options(all_agencies=True))
        assert survey.title == "Beta secrets" and not survey.closed and len(survey.questions) == 3
        assert db.session.scalar(select(func.count(Invitation.id)).execution_options(all_agencies=True)) == 1
        assert db.session.scalar(select(func.count(Response.id)).execution_options(all_agencies=True)) == 1


def test_the_list_shows_each_survey_with_its_tallies(app, staff):
    with app.app_context():
        make_survey(_alpha(), title="First", trigger=None)
        sid = make_survey(_alpha(), title="Second").id
        db.session.commit()
    _answer(app, sid, "Dee", {"How would you rate the work?": "5", "Was the vendor on time?": "Yes"})
    page = staff.get("/manage/surveys")
    assert page.status_code == 200
    rows = re.findall(r'<strong>(\w+)</strong>.*?"Asked"[^>]*>(\d+)<.*?"Answered"[^>]*>(\d+)<', page.text, re.S)
    assert rows == [("Second", "1", "1"), ("First", "0", "0")]
    assert "after a work order is completed" in page.text
