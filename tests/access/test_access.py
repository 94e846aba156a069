"""The authorization engine: every layer combination, time windows at their edges, and the SQL
list filter agreeing with can() item by item."""

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from portal import access, db
from portal.access.models import ItemEffect, ItemRule, OverrideEffect, PersonOverride, PortalDefault, TimeWindow
from portal.documents.models import Document, DocumentKind
from portal.people.models import PortalRole
from tests import factories as f

MADRID = ZoneInfo("Europe/Madrid")
TENANT = PortalRole.TENANT
CAP = "tenant.documents.view"


@pytest.fixture
def world(ctx):
    a = f.agency("alpha", timezone="Europe/Madrid")
    tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    ann = f.person(a, "Ann Tenant", "ann@example.com", roles=["tenant"])
    doc = _document(a, tom, "Lease")
    return a, tom, ann, doc


def _document(a, person, title):
    d = Document(agency_id=a.id, person_id=person.id, kind=DocumentKind.LETTER, title=title, body=title)
    db.session.add(d)
    db.session.flush()
    return d


def _set(a, person, doc, *, a1=None, a2=None, a3_person=None, a3_everyone=None, a4=False):
    for model in (PortalDefault, PersonOverride, ItemRule, TimeWindow):
        db.session.execute(delete(model).execution_options(synchronize_session=False))
    if a1 is not None:
        db.session.add(PortalDefault(agency_id=a.id, capability=CAP, allowed=a1))
    if a2 is not None:
        db.session.add(PersonOverride(agency_id=a.id, person_id=person.id, capability=CAP, effect=a2))
    if a3_person is not None:
        db.session.add(ItemRule(agency_id=a.id, capability=CAP, item_type="Document", item_id=doc.id,
                                person_id=person.id, effect=a3_person))
    if a3_everyone is not None:
        db.session.add(ItemRule(agency_id=a.id, capability=CAP, item_type="Document", item_id=doc.id,
                                person_id=None, effect=a3_everyone))
    if a4:
        db.session.add(TimeWindow(agency_id=a.id, capability=CAP, first_day=10, last_day=31))
    db.session.flush()


A1 = [None, True, False]
A2 = [None, OverrideEffect.GRANT, OverrideEffect.REVOKE]
A3 = [None, ItemEffect.INCLUDE, ItemEffect.EXCLUDE]
A4 = [False, True]


def _expected(a1, a2, a3_person, a3_everyone, a4, owned):
    """The rule, written out: most specific wins."""
    if a4:
        return False, "A4"
    if a3_person is not None:
        return a3_person == ItemEffect.INCLUDE, "A3"
    if a3_everyone is not None:
        return a3_everyone == ItemEffect.INCLUDE, "A3"
    if a2 is not None:
        allowed, layer = a2 == OverrideEffect.GRANT, "A2"
    else:
        allowed, layer = (True if a1 is None else a1), "A1"
    if allowed and not owned:
        return False, "owner"
    return allowed, layer


def test_every_layer_combination(world):
    a, tom, ann, doc = world
    in_window = datetime(2026, 12, 15, 12, tzinfo=MADRID)
    outside = datetime(2026, 12, 5, 12, tzinfo=MADRID)
    checked = 0
    for a1, a2, a3p, a3e, a4 in itertools.product(A1, A2, A3, A3, A4):
        for who, owned in ((tom, True), (ann, False)):
            _set(a, who, doc, a1=a1, a2=a2, a3_person=a3p, a3_everyone=a3e, a4=a4)
            at = in_window if a4 else outside
            decision = access.can(who, TENANT, CAP, doc, at=at)
            expected = _expected(a1, a2, a3p, a3e, a4, owned)
            assert (decision.allowed, decision.layer) == expected, (a1, a2, a3p, a3e, a4, who.name, decision)
            listed = db.session.scalars(
                select(Document.id).where(access.visible(who, TENANT, CAP, Document, Document.person_id == who.id,
                                                         at=at))
            ).all()
            assert (doc.id in listed) == decision.allowed
            checked += 1
    assert checked == 3 * 3 * 3 * 3 * 2 * 2


def test_capability_of_another_portal_or_a_missing_role(world):
    _a, tom, _ann, doc = world
    decision = access.can(tom, PortalRole.OWNER, "owner.documents.view", doc)
    assert (decision.allowed, decision.layer) == (False, "portal")
    assert access.can(tom, TENANT, "guest.checkin").allowed is False


@pytest.mark.parametrize(
    ("local", "allowed"),
    [
        (datetime(2026, 12, 9, 23, 59), True),   # the 9th, one minute before the window
        (datetime(2026, 12, 10, 0, 0), False),   # the 10th at midnight: payments off
        (datetime(2026, 12, 31, 23, 59), False),  # the month's last minute
        (datetime(2027, 1, 1, 0, 0), True),      # a new month
        (datetime(2027, 2, 28, 12, 0), False),   # "to the end of the month" in a short month
        (datetime(2027, 3, 1, 0, 0), True),
        (datetime(2027, 3, 28, 3, 30), False),   # the night the clocks go forward (Madrid)
        (datetime(2026, 10, 25, 2, 30), False),  # the night the clocks go back
    ],
)
def test_time_windows_at_their_edges_in_local_time(world, local, allowed):
    a, tom, _ann, _doc = world
    db.session.add(TimeWindow(agency_id=a.id, capability="tenant.pay", first_day=10, last_day=31))
    db.session.flush()
    decision = access.can(tom, TENANT, "tenant.pay", at=local.replace(tzinfo=MADRID))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.layer == "A4"
        assert "available again on 1 " in decision.reason
    # The same instant seen from UTC decides the same: the window is in the agency's time zone.
    utc = local.replace(tzinfo=MADRID).astimezone(ZoneInfo("UTC"))
    assert access.can(tom, TENANT, "tenant.pay", at=utc).allowed is allowed


def test_the_window_leaves_other_capabilities_alone(world):
    a, tom, _ann, doc = world
    db.session.add(TimeWindow(agency_id=a.id, capability="tenant.pay", first_day=10, last_day=31))
    db.session.flush()
    at = datetime(2026, 12, 15, tzinfo=MADRID)
    assert not access.can(tom, TENANT, "tenant.pay", at=at)
    assert access.can(tom, TENANT, CAP, doc, at=at)


def test_explain_shows_every_layer(world):
    a, tom, _ann, doc = world
    _set(a, tom, doc, a1=True, a2=OverrideEffect.REVOKE, a3_person=ItemEffect.INCLUDE)
    decision, verdicts = access.explain(tom, TENANT, CAP, doc, at=datetime(2026, 12, 5, tzinfo=MADRID))
    assert decision.layer == "A3" and decision.allowed
    assert [v.layer for v in verdicts] == ["A4", "A3", "A3", "shared", "A2", "A1"]
    assert [v.allowed for v in verdicts] == [None, True, None, None, False, True]


rules = st.sampled_from([None, ItemEffect.INCLUDE, ItemEffect.EXCLUDE])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    owners=st.lists(st.integers(0, 2), min_size=1, max_size=8),
    person_rules=st.lists(rules, min_size=8, max_size=8),
    everyone_rules=st.lists(rules, min_size=8, max_size=8),
    a1=st.sampled_from(A1),
    a2=st.sampled_from(A2),
    viewer=st.integers(0, 2),
)
def test_sql_filter_agrees_with_can_item_by_item(app, owners, person_rules, everyone_rules, a1, a2, viewer):
    with app.app_context():
        a = f.agency(f"h{abs(hash((tuple(owners), viewer))) % 10**8}", timezone="Europe/Madrid")
        people = [f.person(a, f"P{i}", f"p{i}@example.com", roles=["tenant"]) for i in range(3)]
        me = people[viewer]
        docs = [_document(a, people[o], f"Doc {i}") for i, o in enumerate(owners)]
        if a1 is not None:
            db.session.add(PortalDefault(agency_id=a.id, capability=CAP, allowed=a1))
        if a2 is not None:
            db.session.add(PersonOverride(agency_id=a.id, person_id=me.id, capability=CAP, effect=a2))
        for d, pr, er in zip(docs, person_rules, everyone_rules, strict=False):
            if pr is not None:
                db.session.add(ItemRule(agency_id=a.id, capability=CAP, item_type="Document", item_id=d.id,
                                        person_id=me.id, effect=pr))
            if er is not None:
                db.session.add(ItemRule(agency_id=a.id, capability=CAP, item_type="Document", item_id=d.id,
                                        person_id=None, effect=er))
        db.session.flush()
        at = datetime(2026, 12, 5, tzinfo=MADRID)
        listed = set(db.session.scalars(
            select(Document.id).where(access.visible(me, TENANT, CAP, Document, Document.person_id == me.id, at=at))
        ))
        for d in docs:
            assert (d.id in listed) == access.can(me, TENANT, CAP, d, at=at).allowed, d.title
        db.session.rollback()


def test_payment_window_stops_pay_links_and_says_when(app, client):
    from portal import clock, links

    with clock.frozen_at(datetime(2026, 12, 12, 10, tzinfo=MADRID)), app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        tom = f.person(a, "Tom Tenant", "tom@example.com")
        charge = f.charge(a, lease=f.lease(a, tenant=tom))
        token = links.token(links.create("pay", charge, tom))
        db.session.add(TimeWindow(agency_id=a.id, capability="tenant.pay", first_day=10, last_day=31))
        db.session.commit()
        page = client.get(f"/l/{token}")
        assert page.status_code == 403
        assert "available again on 1 January 2027" in page.text


def test_an_owners_document_shared_with_the_tenants_of_the_owners_units(world):
    from portal.access.models import ShareRule

    a, tom, ann, _doc = world
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    her_unit = f.unit(a, f.prop(a, "Olga's house"), "Flat 1")
    her_unit.owners = [olga]
    f.lease(a, her_unit, tenant=tom)  # Tom rents from Olga; Ann does not
    report = _document(a, olga, "Building works next month")
    db.session.add(ShareRule(agency_id=a.id, document_id=report.id))
    db.session.flush()
    at = datetime(2026, 12, 5, tzinfo=MADRID)
    decision = access.can(tom, TENANT, CAP, report, at=at)
    assert (decision.allowed, decision.layer) == (True, "shared")
    assert not access.can(ann, TENANT, CAP, report, at=at)
    for who, expected in ((tom, True), (ann, False)):
        listed = db.session.scalars(select(Document.id).where(
            access.visible(who, TENANT, CAP, Document, Document.person_id == who.id, at=at))).all()
        assert (report.id in listed) is expected
    # An item rule for the person still wins over sharing.
    db.session.add(ItemRule(agency_id=a.id, capability=CAP, item_type="Document", item_id=report.id,
                            person_id=tom.id, effect=ItemEffect.EXCLUDE))
    db.session.flush()
    assert access.can(tom, TENANT, CAP, report, at=at).layer == "A3"


def test_sharing_shows_but_never_overrides_a_revocation_or_lets_others_sign(world):
    from portal.access.models import ShareRule

    a, tom, _ann, _doc = world
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    unit = f.unit(a, f.prop(a, "Olga's house"), "Flat 1")
    unit.owners = [olga]
    f.lease(a, unit, tenant=tom)
    agreement = _document(a, olga, "Management agreement")
    agreement.requires_signature = True
    db.session.add(ShareRule(agency_id=a.id, document_id=agreement.id))
    db.session.flush()
    at = datetime(2026, 12, 5, tzinfo=MADRID)
    assert access.can(tom, TENANT, CAP, agreement, at=at).layer == "shared"
    assert not access.can(tom, TENANT, "tenant.documents.sign", agreement, at=at)  # sharing is for reading
    from portal.documents.operations import sign
    from portal.operations import FieldError

    with pytest.raises(FieldError):
        sign(agreement, tom, "Tom Tenant", "127.0.0.1", "test", read_sha256=agreement.sha256)
    db.session.add(PersonOverride(agency_id=a.id, person_id=tom.id, capability=CAP, effect=OverrideEffect.REVOKE))
    db.session.flush()
    assert not access.can(tom, TENANT, CAP, agreement, at=at)
    listed = db.session.scalars(select(Document.id).where(
        access.visible(tom, TENANT, CAP, Document, Document.person_id == tom.id, at=at))).all()
    assert agreement.id not in listed


def test_one_rule_per_item_and_level(world):
    from sqlalchemy.exc import IntegrityError

    a, tom, _ann, doc = world
    for person_id in (tom.id, None):
        db.session.add(ItemRule(agency_id=a.id, capability=CAP, item_type="Document", item_id=doc.id,
                                person_id=person_id, effect=ItemEffect.EXCLUDE))
        db.session.flush()
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(ItemRule(agency_id=a.id, capability=CAP, item_type="Document", item_id=doc.id,
                                    person_id=person_id, effect=ItemEffect.INCLUDE))
            db.session.flush()


@pytest.mark.parametrize(
    ("first", "last", "local", "allowed", "says"),
    [
        # the 31st is "the last day" in April
        (31, 31, datetime(2027, 4, 30, 12), False, "to the end of each month; available again on 1 May"),
        (31, 31, datetime(2027, 4, 29, 12), True, None),
        (31, 31, datetime(2027, 2, 28, 12), False, "to the end of each month; available again on 1 March"),
        (10, 28, datetime(2027, 3, 28, 12), False, "to the 28th of each month; available again on 29 March"),
        (10, 28, datetime(2027, 3, 29, 0, 0), True, None),
    ],
)
def test_windows_in_short_months_and_their_wording(world, first, last, local, allowed, says):
    a, tom, _ann, _doc = world
    db.session.add(TimeWindow(agency_id=a.id, capability="tenant.pay", first_day=first, last_day=last))
    db.session.flush()
    decision = access.can(tom, TENANT, "tenant.pay", at=local.replace(tzinfo=MADRID))
    assert decision.allowed is allowed
    if says:
        assert says in decision.reason
        assert "month of each month" not in decision.reason  # reads as a sentence


def test_a_setting_changed_in_the_same_unit_of_work_counts_at_once(world):
    """can() reads the person's settings once, and forgets them whenever the session writes."""
    from sqlalchemy import update

    from portal.access import operations

    a, tom, _ann, doc = world
    assert access.can(tom, TENANT, CAP).allowed
    operations.set_default(a.id, CAP, False)
    assert access.can(tom, TENANT, CAP) == access.Decision(False, "A1", "agency default: off for every tenant")
    db.session.execute(update(PortalDefault).values(allowed=True))
    assert access.can(tom, TENANT, CAP).layer == "A1" and access.can(tom, TENANT, CAP).allowed
    operations.set_override(a.id, tom.id, CAP, OverrideEffect.REVOKE)
    assert not access.can(tom, TENANT, CAP, doc).allowed
    assert db.session.scalars(select(Document).where(access.visible(tom, TENANT, CAP, Document,
                                                                     Document.person_id == tom.id))).all() == []
