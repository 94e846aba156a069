"""The request or the job owns the transaction (portal.db): a view's answer commits, an exception
commits nothing, GET and HEAD write nothing unless marked, a failed commit is the friendly error
page; a job is committed when it returns and rolled back when it raises; side effects are released
once, after the commit, through one mechanism."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import abort
from sqlalchemy import func, select

from portal import clock, create_app, db, housekeeping, mail, queue
from portal.agencies.models import Agency, LoginAttempt
from portal.messages.models import Message
from tests import factories as f


def _attempts(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(LoginAttempt.email).order_by(LoginAttempt.id)))


def _note(email: str) -> None:
    db.session.add(LoginAttempt(email=email, ip="192.0.2.1"))
    db.session.flush()


@pytest.fixture
def routed(app):
    """The app with a few views that write and then answer, refuse or fail, wired like every view."""
    # Errors become their pages, as in production; these bare test views carry no form, so no CSRF token.
    other = create_app({**app.config, "PROPAGATE_EXCEPTIONS": False, "WTF_CSRF_ENABLED": False})

    @other.route("/t/ok", methods=["POST"])
    def ok():
        _note("ok@example.com")
        return "saved"

    @other.route("/t/refused", methods=["POST"])
    def refused():
        _note("refused@example.com")  # a record the refusal keeps (a failed login, a link's audit)
        return "no", 409

    @other.route("/t/crash", methods=["POST"])
    def crash():
        _note("crash@example.com")
        raise RuntimeError("a bug after a flush")

    @other.route("/t/abort", methods=["POST"])
    def aborted():
        _note("abort@example.com")
        abort(404)

    @other.route("/t/read", methods=["GET", "HEAD"])
    def read():
        _note("read@example.com")
        return "looked"

    @other.route("/t/audited", methods=["GET"])
    @db.writes_on_get
    def audited():
        _note("audited@example.com")
        return "looked, on record"

    @other.route("/t/conflict", methods=["POST"])
    def conflict():
        a = db.session.scalar(select(Agency).where(Agency.slug == "alpha"))
        db.scope(db.session, a.id)
        mail.send(to="ana@example.com", subject="Never sent", text="The commit fails.", agency_id=a.id)
        db.session.add(LoginAttempt(email="conflict@example.com", ip="192.0.2.1"))
        db.session.add(Agency(slug="alpha", name="Alpha again"))  # a taken slug: the commit (after the view) fails
        return "saved"

    db.commit_requests(other)
    yield other
    other.extensions["db.engine"].dispose()


def test_a_views_answer_commits_what_it_wrote(routed):
    client = routed.test_client()
    assert client.post("/t/ok").status_code == 200
    assert client.post("/t/refused").status_code == 409
    assert _attempts(routed) == ["ok@example.com", "refused@example.com"]


def test_an_exception_leaves_no_half_written_row(routed):
    client = routed.test_client()
    crashed = client.post("/t/crash")
    assert crashed.status_code == 500 and "Something went wrong" in crashed.text
    assert client.post("/t/abort").status_code == 404
    assert _attempts(routed) == []


def test_get_and_head_write_nothing_unless_marked(routed):
    client = routed.test_client()
    assert client.get("/t/read").status_code == 200
    assert client.head("/t/read").status_code == 200
    assert client.get("/t/audited").status_code == 200
    assert _attempts(routed) == ["audited@example.com"]


def test_a_commit_that_fails_is_the_error_page_and_releases_nothing(routed):
    with routed.app_context():
        f.agency("alpha")
        db.session.commit()
    client = routed.test_client()
    response = client.post("/t/conflict")
    assert response.status_code == 500 and "Something went wrong" in response.text
    with routed.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0
        assert db.session.scalar(select(func.count()).select_from(Message).execution_options(all_agencies=True)) == 0
        assert queue.get_queue("mail").count == 0  # the mail's delivery job was never released


def test_after_commit_callbacks_run_once_after_the_commit_and_never_after_a_rollback(ctx):
    calls = []
    db.session.execute(select(1))
    db.after_commit(db.session, calls.append, "kept")
    db.collect_after_commit(db.session, calls.append, 1)
    db.collect_after_commit(db.session, calls.append, 2)  # the same callback: one call, both items
    assert calls == []  # nothing before the commit
    db.session.commit()
    assert calls == ["kept", [1, 2]]
    db.session.commit()  # a second commit releases nothing again
    assert calls == ["kept", [1, 2]]
    db.session.execute(select(1))
    db.after_commit(db.session, calls.append, "dropped")
    db.session.rollback()
    db.session.commit()
    assert calls == ["kept", [1, 2]]


def test_a_savepoint_is_not_the_transaction(ctx):
    """Releasing a savepoint releases nothing; rolling one back drops only what was registered inside it."""
    calls = []
    db.session.execute(select(1))
    db.after_commit(db.session, calls.append, "before")
    db.collect_after_commit(db.session, calls.append, 1)
    with db.session.begin_nested():
        db.after_commit(db.session, calls.append, "released savepoint")
    assert calls == []  # the transaction is still open
    savepoint = db.session.begin_nested()
    db.after_commit(db.session, calls.append, "rolled-back savepoint")
    db.collect_after_commit(db.session, calls.append, 2)
    savepoint.rollback()
    db.after_commit(db.session, calls.append, "after")
    assert calls == []
    db.session.commit()
    assert calls == ["before", [1], "released savepoint", "after"]


def test_mail_and_jobs_leave_through_the_one_mechanism(ctx, app):
    a = f.agency("alpha")
    db.session.commit()
    mail.send(to="ana@example.com", subject="One", text="1", agency_id=a.id)
    mail.send(to="ana@example.com", subject="Two", text="2", agency_id=a.id)
    queue.enqueue_after_commit(db.session, housekeeping.prune_job)
    pending = db.session.info[db.AFTER_COMMIT]
    assert len(pending) == 2  # the outbox (both messages) and the job, on the one list
    assert queue.get_queue("mail").count == 0 and queue.get_queue("default").count == 0
    db.session.commit()
    assert queue.get_queue("mail").count == 1  # one delivery job for the commit's two messages
    assert queue.get_queue("default").count == 1


def test_the_worker_commits_a_job_that_only_flushes(app, run_jobs):
    with app.app_context():
        db.session.add(LoginAttempt(email="old@example.com", ip="192.0.2.1", at=clock.now() - timedelta(days=3)))
        db.session.commit()
        queue.enqueue(housekeeping.prune)  # an operation: it flushes and never commits
    run_jobs()
    assert _attempts(app) == []


def test_a_job_that_raises_leaves_nothing(app, run_jobs):
    with app.app_context():
        job = queue.enqueue(write_then_fail, "job@example.com")
    run_jobs()
    with app.app_context():
        assert job.get_status(refresh=True) == "failed"
    assert _attempts(app) == []


def write_then_fail(email: str) -> None:
    """An RQ job (importable by the worker) that writes, flushes, then fails."""
    _note(email)
    raise RuntimeError("the job fails after writing")
