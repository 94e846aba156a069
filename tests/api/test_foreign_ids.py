"""Every route of the work-order, document, message, integration, solution and task resources that names a row:
another agency's key gets 404 for alpha's real ids, whatever the method, and changes nothing; alpha's key sees them."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from automation.models import Solution, Task, TaskStatus
from portal import db, mail
from portal.agencies.models import Agency
from portal.documents.models import DocumentKind
from portal.documents.operations import save_document
from portal.integrations.models import SyncRun
from portal.integrations.operations import save_integration
from portal.integrations.stays import finish_run, start_run
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrderEvent
from tests import factories as f
from tests.api.checks import error, other_agency

ENDPOINTS = ("work_orders.", "documents.", "messages.", "integrations.", "solutions.", "tasks.")


def _alpha_rows(app, alpha: int) -> dict[str, int]:
    """One row of each kind in alpha, by the name its routes give its id."""
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        guest = f.person(a, "Gina Guest", "gina@example.com", roles=["guest"])
        booking = f.booking(a, guest=guest)
        order = ops.submit_request(guest, booking.unit, "cleaning", "Extra towels", "Four more, please")
        document = save_document(None, a.id, {"person_id": guest.id, "kind": DocumentKind.LETTER, "title": "Welcome",
                                              "body": "Hello."})
        message = mail.send(to=guest.email, subject="Hello", text="Welcome", person=guest)
        integration = save_integration(None, a.id, {"name": "Airbnb", "kind": "ical", "interval_minutes": 60,
                                                    "when_missing": "cancel"})
        run = start_run(integration, "manual", 0)
        finish_run(run)
        solution = f.solution(a, "extra-services", name="Extras")
        f.booking(a, guest=guest)  # planned by the active solution
        task = db.session.scalars(select(Task)).first()
        task.status = TaskStatus.FAILED
        db.session.commit()
        return {"order_id": order.id, "document_id": document.id, "message_id": message.id,
                "integration_id": integration.id, "run_id": run.id, "solution_id": solution.id, "task_id": task.id}


def _counts(app) -> tuple:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model).execution_options(all_agencies=True))
                     for model in (WorkOrderEvent, SyncRun, Solution))


def test_other_agencies_ids_are_404_on_every_route(app, api, alpha):
    ids = _alpha_rows(app, alpha)
    beta = other_agency(app)
    before = _counts(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(ENDPOINTS) or not rule.arguments:
            continue
        assert rule.arguments <= set(ids), f"{rule.rule}: add its ids to _alpha_rows"
        path = re.sub(r"<[^:>]+:([a-z_]+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        if "GET" in rule.methods:
            assert api.get(path).status_code == 200, path  # alpha's own: the ids are real
        for method in sorted(rule.methods & {"GET", "POST", "PATCH"}):
            body = {"on": True, "confirm": True} if path.endswith("/sync") else {}
            answer = beta.open(method, path, json=body if method != "GET" else None, headers={"If-Match": "*"})
            error(answer, 404, "not_found")
            checked += 1
    assert checked >= 14
    assert _counts(app) == before
    with app.app_context():
        db.scope(db.session, alpha)
        assert db.session.get(Solution, ids["solution_id"]).active
        assert db.session.get(Task, ids["task_id"]).status == TaskStatus.FAILED
