"""A survey sent after completed work orders, and the agency it belongs to (shared by the survey tests)."""

from __future__ import annotations

from automation import dispatcher
from automation.models import MailTemplate
from portal import db
from portal.surveys import operations as survey_ops
from portal.workorders import operations as ops
from tests import factories as f

QUESTIONS = [
    ("How would you rate the work?", "rating", [], True),
    ("Was the vendor on time?", "choice", ["Yes", "A little late", "Very late"], True),
    ("Anything we could do better?", "text", [], False),
]


def make_survey(a, title: str = "After the work", trigger: str | None = "workorder-completed", questions=QUESTIONS):
    survey = survey_ops.save_survey(None, a.id, {"title": title, "intro": "Three quick questions.",
                                                 "sends_after": trigger})
    for prompt, kind, options, required in questions:
        survey_ops.add_question(survey, prompt, kind, options, required)
    return survey


def survey_world(app, slug: str = "alpha") -> dict:
    """An agency with its starter templates, the "survey" solution on, the survey set to go after completed
    work orders, and a tenant's order taken to completed."""
    with app.app_context():
        a = f.agency(slug, starter=True)
        staff = f.staff(a)
        tenant = f.person(a, "Tom Tenant", f"tom@{slug}.example", roles=["tenant"])
        vendor = f.person(a, "Victor Vendor", f"victor@{slug}.example", roles=["vendor"])
        survey = make_survey(a)
        from sqlalchemy import select

        tpl = db.session.scalar(select(MailTemplate).where(MailTemplate.name == "Survey after work"))
        f.solution(a, "survey", tpl=tpl, roles=("requester",), name="Feedback after work")
        unit = f.unit(a, f.prop(a, "Seafront"), "1A")
        order = ops.submit_request(tenant, unit, "repair", "Leaking tap", "The kitchen tap drips")
        ops.triage(order, ops.SYSTEM, vendor_id=vendor.id)
        f.completed(order)
        ids = {"agency": a.id, "staff": staff.id, "tenant": tenant.id, "survey": survey.id, "order": order.id,
               "questions": [q.id for q in survey.questions], "staff_email": staff.email}
        db.session.commit()
    return ids


def send_due(app, run_jobs) -> None:
    with app.app_context():
        dispatcher.dispatch()
    run_jobs()
