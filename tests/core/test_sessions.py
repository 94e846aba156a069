"""One session mechanism (portal.sessions): staff and portal sessions are rows of one table, by kind,
each kind with its own lifetime; signing out ends only its own session; rotation kills the old token;
the migration moves the sessions of the two former tables, both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, select, text, update

from portal import clock, db, housekeeping, links, migrate, sessions
from portal.agencies.models import LoginSession
from portal.people.models import Person
from tests import factories as f
from tests.conftest import csrf_token, press_link, signed_in_client


@pytest.fixture
def both(app, login, client):
    """A manager signed in to the back office (client) and a tenant to the portals (second client)."""
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        db.session.commit()
        tenant_id = tenant.id
    login("manager@alpha.example", f.PASSWORD)
    return client, signed_in_client(app, tenant_id)


@pytest.fixture
def short_portal_sessions(app):
    app.config["PORTAL_SESSION_HOURS"] = 1
    yield
    app.config["PORTAL_SESSION_HOURS"] = None


def _age(app, hours: float) -> None:
    with app.app_context():
        db.session.execute(update(LoginSession).values(created_at=clock.now() - timedelta(hours=hours)))
        db.session.commit()


def test_staff_and_portal_sessions_are_rows_of_one_table(app, both):
    staff, tenant = both
    assert staff.get("/manage/").status_code == 200
    assert tenant.get("/alpha/tenant/").status_code == 200
    with app.app_context():
        rows = db.session.execute(select(LoginSession.kind, LoginSession.user_id, LoginSession.person_id,
                                         LoginSession.agency_id).order_by(LoginSession.kind)).all()
    assert [r.kind for r in rows] == ["portal", "staff"]
    assert rows[0].person_id and rows[0].user_id is None and rows[1].user_id and rows[1].person_id is None
    assert rows[0].agency_id == rows[1].agency_id is not None
    assert {"staff_sessions", "portal_sessions"}.isdisjoint(inspect(app.extensions["db.engine"]).get_table_names())


def test_each_kind_expires_by_its_own_lifetime(app, both, short_portal_sessions):
    staff, tenant = both
    _age(app, 2)  # past the portal's hour, well inside the staff's twelve
    assert tenant.get("/alpha/tenant/").status_code == 302
    assert staff.get("/manage/").status_code == 200
    _age(app, app.config["STAFF_SESSION_HOURS"] + 1)
    assert staff.get("/manage/").status_code == 302


def test_portal_sessions_last_as_long_as_staff_ones_unless_configured(app):
    with app.app_context():
        assert sessions.lifetime("portal") == sessions.lifetime("staff") == timedelta(hours=12)


def test_pruning_follows_each_kinds_lifetime(app, both, short_portal_sessions):
    _age(app, 2)
    with app.app_context():
        assert housekeeping.prune() == {"login_attempts": 0, "staff_sessions": 0, "portal_sessions": 1,
                                        "api_idempotency": 0}
        db.session.commit()
        assert db.session.scalars(select(LoginSession.kind)).all() == ["staff"]


def test_signing_out_ends_only_that_session(app, both):
    staff, tenant = both
    dashboard = staff.get("/manage/").text
    assert staff.post("/manage/logout", data={"csrf_token": csrf_token(dashboard)}).status_code == 302
    assert staff.get("/manage/").status_code == 302
    assert tenant.get("/alpha/tenant/").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(LoginSession.kind)).all() == ["portal"]


def test_signing_in_to_a_portal_in_the_same_browser_ends_the_staff_session(app, both):
    """Staff and portals share the browser's cookie: a sign-in clears it, and the session it held ends too."""
    staff, _ = both
    with app.app_context():
        tenant = db.session.scalar(select(Person).where(Person.email == "tom@example.com")
                                   .execution_options(all_agencies=True))
        db.scope(db.session, tenant.agency_id)
        token = links.token(links.create("login", tenant, tenant))
        db.session.commit()
    press_link(staff, token)
    assert staff.get("/alpha/tenant/").status_code == 200
    assert staff.get("/manage/").status_code == 302
    with app.app_context():
        kinds = db.session.scalars(select(LoginSession.kind).execution_options(all_agencies=True)).all()
    assert sorted(kinds) == ["portal", "portal"]  # the staff row is gone, not orphaned


def test_rotation_gives_a_new_token_and_kills_the_old_one(app, both):
    with app.app_context(), app.test_request_context():
        (old,) = db.session.scalars(select(LoginSession).where(LoginSession.kind == "portal")).all()
        db.scope(db.session, old.agency_id)  # as the portal's URL does
        person = sessions.lookup("portal", old.token, old.agency_id)
        new = sessions.rotate("portal", old.token, person)
        db.session.commit()
        assert new != old.token
        assert sessions.lookup("portal", old.token, person.agency_id) is None
        assert sessions.lookup("portal", new, person.agency_id).id == person.id
        assert sessions.lookup("staff", new) is None  # a token is only ever good for its own kind


def test_the_migration_moves_sessions_both_ways(app, both):
    with app.app_context():
        before = set(db.session.execute(select(LoginSession.token, LoginSession.kind)).all())
        db.session.close()
        cfg = migrate.alembic_config()
        try:
            command.downgrade(cfg, "0014_mail")
            with db.engine().connect() as conn:
                staff = conn.execute(text("SELECT token FROM staff_sessions")).scalars().all()
                portal = conn.execute(text("SELECT token FROM portal_sessions")).scalars().all()
            assert {(t, "staff") for t in staff} | {(t, "portal") for t in portal} == before
        finally:
            command.upgrade(cfg, "head")
        assert set(db.session.execute(select(LoginSession.token, LoginSession.kind)).all()) == before
        assert db.session.scalar(select(LoginSession.agency_id).where(LoginSession.kind == "staff")) is not None
