"""Layered portal authorization (A1-A4): one engine decides every portal action and item.

Most specific wins: A4 time windows, then A3 item rules (for the person, then for everyone of
the portal), then A2 the person's overrides, then A1 the agency's defaults; an owner's document
shared with their tenants ("shared") shows it to them. `can()` decides one question and says which
layer decided; `visible()` is the same decision as a SQL condition, so lists are filtered in the
query. The codes are the engine's; people read them as LAYERS' plain words."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, event, exists, false, func, or_, select
from sqlalchemy.orm import ORMExecuteState, Session

from portal import agencies, clock, dates, db
from portal.access.models import ItemEffect, ItemRule, OverrideEffect, PersonOverride, PortalDefault, TimeWindow
from portal.agencies.models import Agency
from portal.people.models import Person, PortalRole

# What each layer code means, in the words the back office shows.
LAYERS = {
    "A1": "agency default",
    "A2": "this person's setting",
    "A3": "this item",
    "A4": "time window",
    "shared": "shared notice",
    "approval": "approval",
    "portal": "portal access",
    "owner": "whose item it is",
}


# An A2 setting as the reason reads it: "revoked for Olga Owner".
PAST = {OverrideEffect.GRANT: "granted", OverrideEffect.REVOKE: "revoked"}


def layer_label(layer: str) -> str:
    """A layer code in plain words ('A2' -> "this person's setting")."""
    return LAYERS.get(layer, layer)


@dataclass(frozen=True)
class Capability:
    """Something a portal user can do or see; `items` names the model its A3 rules are about.

    `available` is False for a capability no feature checks yet: the engine knows it, the
    back office does not offer it (a switch that changes nothing would mislead)."""

    name: str
    label: str
    default: bool = True
    items: str | None = None
    available: bool = True

    @property
    def portal(self) -> PortalRole:
        return PortalRole(self.name.split(".", 1)[0])


CAPABILITIES: dict[str, Capability] = {}


def capability(name: str, label: str, default: bool = True, items: str | None = None,
               available: bool = True) -> Capability:
    """Register a capability (one line per capability)."""
    CAPABILITIES[name] = Capability(name, label, default, items, available)
    return CAPABILITIES[name]


def offered(roles: object | None = None) -> list[Capability]:
    """The capabilities the back office offers (those a feature uses), of the given portals if any."""
    return [c for c in CAPABILITIES.values() if c.available and (roles is None or c.portal in roles)]


capability("tenant.pay", "Pay rent, deposits and fees", items="Charge")
capability("tenant.autopay", "Set up automatic rent payments")
capability("tenant.documents.view", "See documents, letters and notices", items="Document")
capability("tenant.documents.sign", "E-sign the lease and notices", items="Document")
capability("tenant.workorders.submit", "Submit work requests")
capability("tenant.messages.view", "See messages")
capability("tenant.appointments.view", "See and answer appointments", items="Appointment")
capability("tenant.violations.respond", "See and answer violation notices", items="Violation")
capability("tenant.insurance.accept", "See and accept insurance quotes", items="InsuranceQuote")
capability("guest.pay", "Pay reservation fees, options and taxes", items="Charge")
capability("guest.documents.view", "See documents", items="Document")
capability("guest.documents.sign", "E-sign the reservation", items="Document")
capability("guest.checkin", "Check in and out")
capability("guest.codes.view", "See access and Wi-Fi codes after check-in")
capability("guest.options.add", "Add guests, insurance and options")
capability("guest.requests.submit", "Submit work and cleaning requests")
capability("guest.messages.view", "See messages")
capability("guest.violations.respond", "See and answer violation notices", items="Violation")
capability("guest.insurance.accept", "See and accept insurance quotes", items="InsuranceQuote")
capability("owner.documents.view", "See documents and statements", items="Document")
capability("owner.documents.sign", "E-sign the management agreement", items="Document")
capability("owner.statements.view", "See and download their monthly statements")
capability("owner.money.send", "Send money into their owner account")
capability("owner.invoices.approve", "See and approve invoices for their units", items="Invoice")
capability("owner.workorders.approve", "See and approve work orders on their units", items="WorkOrder")
capability("owner.applicants.approve", "See and decide on applicants for their units", items="Applicant")
capability("owner.messages.view", "See messages")
capability("owner.bookings.view", "See and hear about bookings of their units", items="Booking")
capability("owner.leases.view", "See the leases of their units", items="Lease")
capability("owner.occupants.view", "See who occupies their units: names and agreements")
capability("owner.occupants.contact", "See their occupants' e-mail and phone", default=False)
capability("vendor.workorders.accept", "Accept and update work orders", items="WorkOrder")
capability("vendor.invoices.view", "Invoice their work and see payment status", items="Invoice")
capability("vendor.messages.view", "Message the manager")


@dataclass(frozen=True)
class Holding:
    """Which items a capability counts as the person's own, when it is not the item's `person_id`
    (a vendor's orders are those assigned to them; an owner's, those on their units): `test` for one
    item, `condition` as SQL for lists. Feature packages register theirs (e.g. portal.workorders.holdings)."""

    test: Callable[[Person, Any], bool]
    condition: Callable[[Person, type], ColumnElement[bool]]


HOLDINGS: dict[str, Holding] = {}


def holding(name: str, test: Callable[[Person, Any], bool],
            condition: Callable[[Person, type], ColumnElement[bool]]) -> None:
    """Say whose items of capability `name` are (one call per capability)."""
    HOLDINGS[name] = Holding(test, condition)


@dataclass(frozen=True)
class Decision:
    """The answer, the layer that gave it, and why (shown by Explain and on refusal pages)."""

    allowed: bool
    layer: str
    reason: str

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def layer_label(self) -> str:
        return layer_label(self.layer)


@dataclass(frozen=True)
class Verdict:
    """One layer's say in an explanation: None when the layer has nothing to say."""

    layer: str
    allowed: bool | None
    reason: str

    @property
    def layer_label(self) -> str:
        return layer_label(self.layer)


@dataclass(frozen=True)
class Policy:
    """One person's A1, A2 and A4-window settings, read once per unit of work (three small queries)."""

    agency: Agency
    windows: dict[str, list[TimeWindow]]
    overrides: dict[str, OverrideEffect]
    defaults: dict[str, bool]

    def capability_level(self, cap: Capability) -> tuple[str, bool | None, bool]:
        """(layer, A2 verdict or None, the capability's setting after A2 and A1)."""
        override = self.overrides.get(cap.name)
        if override is not None:
            return "A2", override == OverrideEffect.GRANT, override == OverrideEffect.GRANT
        return "A1", None, self.defaults.get(cap.name, cap.default)


_POLICIES = "access_policies"


def policy(person: Person) -> Policy:
    """The person's settings, cached on the session until it next writes, commits or rolls back."""
    cache = db.session.info.setdefault(_POLICIES, {})
    if person.id not in cache:
        windows: dict[str, list[TimeWindow]] = {}
        for w in db.session.scalars(select(TimeWindow).order_by(TimeWindow.first_day, TimeWindow.id)):
            windows.setdefault(w.capability, []).append(w)
        cache[person.id] = Policy(
            agency=agencies.get(person.agency_id),
            windows=windows,
            overrides=dict(db.session.execute(
                select(PersonOverride.capability, PersonOverride.effect).where(PersonOverride.person_id == person.id)
            ).all()),
            defaults=dict(db.session.execute(select(PortalDefault.capability, PortalDefault.allowed)).all()),
        )
    return cache[person.id]


def _forget_policies(session: Session, *args: object) -> None:
    session.info.pop(_POLICIES, None)


def _forget_policies_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:  # an UPDATE or DELETE statement may change any setting
        _forget_policies(state.session)


for _event in ("after_flush", "after_commit", "after_soft_rollback"):
    event.listen(Session, _event, _forget_policies)
event.listen(Session, "do_orm_execute", _forget_policies_on_write)


def _local_day(agency: Agency, at: datetime) -> date:
    return at.astimezone(agency.zone).date()


def _window_covers(window: TimeWindow, day: date) -> bool:
    # Days past the month's end mean its last day: a 31-31 window is "the last day of every month".
    month_end = calendar.monthrange(day.year, day.month)[1]
    return min(window.first_day, month_end) <= day.day <= min(window.last_day, month_end)


def _next_open_day(windows: list[TimeWindow], day: date) -> date:
    candidate = day
    for _ in range(62):  # every window ends within a month
        if not any(_window_covers(w, candidate) for w in windows):
            return candidate
        candidate += timedelta(days=1)
    return candidate


def explain(person: Person, role: PortalRole, name: str, item: object | None = None,
            at: datetime | None = None) -> tuple[Decision, list[Verdict]]:
    """Every layer's verdict, most specific first, and the decision they add up to."""
    cap = CAPABILITIES[name]
    verdicts: list[Verdict] = []
    if cap.portal != role or role not in person.active_roles:
        decision = Decision(False, "portal", f"{person.name} has no {cap.portal.value} portal")
        return decision, [Verdict("portal", False, decision.reason)]

    settings = policy(person)
    day = _local_day(settings.agency, at or clock.now())
    windows = settings.windows.get(name, [])
    closing = [w for w in windows if _window_covers(w, day)]
    if closing:
        w = closing[0]
        until = "the end" if w.last_day == 31 else f"the {_ordinal(w.last_day)}"
        again = _next_open_day(windows, day)
        verdicts.append(Verdict("A4", False, f"{cap.label} is off from the {_ordinal(w.first_day)} to {until} "
                                             f"of each month; available again on "
                                             f"{dates.format_day(again, settings.agency.babel_locale, 'long')}"))
    else:
        verdicts.append(Verdict("A4", None, "no time window applies now"))

    if item is not None:
        person_rule, everyone_rule = _item_rules(name, item, person)
        for who, rule in (("this person", person_rule), (f"every {role.value}", everyone_rule)):
            if rule is None:
                verdicts.append(Verdict("A3", None, f"no item rule for {who}"))
            else:
                verdicts.append(Verdict("A3", rule.effect == ItemEffect.INCLUDE,
                                        f"{type(item).__name__.lower()} #{item.id} {rule.effect.value}d for {who}"))

    if item is not None and name == "tenant.documents.view":
        shared = _shared_with_tenant(item, person)
        verdicts.append(Verdict("shared", True if shared else None,
                                "shared with every tenant of the owner's units" if shared else "not shared"))

    override = settings.overrides.get(name)
    if override is None:
        verdicts.append(Verdict("A2", None, "inherits the agency's setting"))
    else:
        verdicts.append(Verdict("A2", override == OverrideEffect.GRANT, f"{PAST[override]} for {person.name}"))

    default = settings.defaults.get(name)
    allowed = cap.default if default is None else default
    source = "built-in default" if default is None else "agency default"
    verdicts.append(Verdict("A1", allowed, f"{source}: {'on' if allowed else 'off'} for every {role.value}"))

    if item is not None and not _owns(person, item, name):
        # Without an item rule that includes it, an item that is not theirs is simply not there.
        verdicts.append(Verdict("owner", False, f"{type(item).__name__.lower()} #{item.id} is not {person.name}'s"))

    decision = _decide(verdicts)
    return decision, verdicts


def _decide(verdicts: list[Verdict]) -> Decision:
    a4 = next(v for v in verdicts if v.layer == "A4")
    if a4.allowed is False:
        return Decision(False, "A4", a4.reason)
    for v in verdicts:
        if v.layer == "A3" and v.allowed is not None:
            return Decision(v.allowed, "A3", v.reason)
    capability_level = next(v for v in verdicts if v.layer == "A2")
    if capability_level.allowed is None:
        capability_level = next(v for v in verdicts if v.layer == "A1")
    if not capability_level.allowed:
        return Decision(False, capability_level.layer, capability_level.reason)
    owner = next((v for v in verdicts if v.layer == "owner"), None)
    if owner is None:
        return Decision(True, capability_level.layer, capability_level.reason)
    # Not theirs: only sharing can show it, and only if the capability itself is on.
    sharing = next((v for v in verdicts if v.layer == "shared" and v.allowed), None)
    if sharing is not None:
        return Decision(True, "shared", sharing.reason)
    return Decision(False, "owner", owner.reason)


def can(person: Person, role: PortalRole, name: str, item: object | None = None,
        at: datetime | None = None) -> Decision:
    """May `person`, in their `role` portal, use capability `name` (on `item`) at `at`?"""
    return explain(person, role, name, item, at)[0]


def visible(person: Person, role: PortalRole, name: str, model: type, owned: ColumnElement[bool] | None = None,
            at: datetime | None = None) -> ColumnElement[bool]:
    """The SQL condition for the rows of `model` that `can(person, role, name, row)` allows.

    `owned` says which rows are the person's own (e.g. `Document.person_id == person.id`); without it,
    the capability's registered holding says, else the rows' `person_id`."""
    cap = CAPABILITIES[name]
    if cap.portal != role or role not in person.active_roles:
        return false()
    settings = policy(person)
    day = _local_day(settings.agency, at or clock.now())
    if any(_window_covers(w, day) for w in settings.windows.get(name, [])):
        return false()
    capability_allowed = settings.capability_level(cap)[2]
    if owned is None:
        owned = HOLDINGS[name].condition(person, model) if name in HOLDINGS else model.person_id == person.id

    def rule(for_person: bool) -> ColumnElement:
        # The level's effect. The unique indexes allow one rule per level; should a level ever
        # hold two, max() picks "include" ("include" > "exclude"), as _item_rules() does.
        return (
            select(func.max(ItemRule.effect))
            .where(ItemRule.capability == name, ItemRule.item_type == model.__name__, ItemRule.item_id == model.id,
                   ItemRule.person_id == person.id if for_person else ItemRule.person_id.is_(None))
            .scalar_subquery()
        )

    if model.__name__ == "Document" and name == "tenant.documents.view":
        owned = or_(owned, _shared_with_tenant_sql(model, person))
    fallback = case((owned, ItemEffect.INCLUDE.value), else_=ItemEffect.EXCLUDE.value) if capability_allowed \
        else ItemEffect.EXCLUDE.value
    return func.coalesce(rule(True), rule(False), fallback) == ItemEffect.INCLUDE.value


def _item_rules(name: str, item: object, person: Person) -> tuple[ItemRule | None, ItemRule | None]:
    rules = db.session.scalars(
        select(ItemRule).where(
            ItemRule.capability == name, ItemRule.item_type == type(item).__name__, ItemRule.item_id == item.id,
            or_(ItemRule.person_id == person.id, ItemRule.person_id.is_(None)),
        ).order_by(ItemRule.id)
    ).all()
    def pick(candidates: list[ItemRule]) -> ItemRule | None:
        # Should a level hold two rules, an include wins, exactly as in visible().
        return next((r for r in candidates if r.effect == ItemEffect.INCLUDE), candidates[0] if candidates else None)

    return pick([r for r in rules if r.person_id == person.id]), pick([r for r in rules if r.person_id is None])


def _shared_with_tenant_sql(model: type, tenant: Person) -> ColumnElement[bool]:
    """Sharing in SQL: a shared document whose owner owns a unit the tenant rents."""
    from portal.access.models import ShareRule
    from portal.bookings.models import Lease, LeaseStatus
    from portal.properties.models import unit_owners

    return exists().where(
        ShareRule.document_id == model.id,
        unit_owners.c.person_id == model.person_id,
        Lease.unit_id == unit_owners.c.unit_id,
        Lease.tenant_id == tenant.id,
        Lease.status == LeaseStatus.ACTIVE,
    )


def _shared_with_tenant(document: object, tenant: Person) -> bool:
    from portal.documents.models import Document

    return bool(db.session.scalar(
        select(Document.id).where(Document.id == document.id, _shared_with_tenant_sql(Document, tenant))
    ))


def _owns(person: Person, item: object, name: str) -> bool:
    if name in HOLDINGS:
        return HOLDINGS[name].test(person, item)
    return getattr(item, "person_id", None) == person.id


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def gate(order: object) -> Decision:
    """Approval gates: may work on this order go ahead, or does it wait for a decision?"""
    pending = getattr(order, "pending_gates", [])
    if pending:
        return Decision(False, "approval", f"waiting for {' and '.join(pending)}")
    return Decision(True, "approval", "no decision pending")


class NotAvailable(Exception):
    """A capability refused: the page says so, and when it will be available again if known."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


def require(person: Person, role: PortalRole, name: str, item: object | None = None) -> Decision:
    """Enforce one decision: an item the person may not see is a 404 (its existence is not
    revealed); a capability that is off is a friendly 403 page with the reason."""
    from flask import abort

    decision = can(person, role, name, item)
    if decision.allowed:
        return decision
    if item is not None and (decision.layer in ("A3", "owner") or not _within_reach(person, name, item)):
        abort(404)
    raise NotAvailable(decision)


def _within_reach(person: Person, name: str, item: object) -> bool:
    """Whether the item is the person's, or put in their reach by an include rule or sharing:
    only then may a refusal say that it exists."""
    if _owns(person, item, name):
        return True
    mine, everyone = _item_rules(name, item, person)
    if ItemEffect.INCLUDE in {r.effect for r in (mine, everyone) if r is not None}:
        return True
    return name == "tenant.documents.view" and _shared_with_tenant(item, person)
