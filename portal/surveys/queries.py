"""Reads on surveys, scoped to the current agency: the list, a survey's results, its responses for CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from portal import db
from portal.people.models import Person
from portal.surveys.models import Answer, Invitation, Question, QuestionKind, Response, Survey, SurveyTrigger


def surveys_query() -> Select:
    """Every survey, newest first."""
    return select(Survey).options(selectinload(Survey.questions)).order_by(Survey.id.desc())


def tallies(survey_ids: list[int]) -> dict[int, tuple[int, int]]:
    """How many people each survey asked and how many answered."""
    asked = dict(db.session.execute(select(Invitation.survey_id, func.count(Invitation.id))
                                    .where(Invitation.survey_id.in_(survey_ids)).group_by(Invitation.survey_id)).all())
    answered = dict(db.session.execute(select(Response.survey_id, func.count(Response.id))
                                       .where(Response.survey_id.in_(survey_ids)).group_by(Response.survey_id)).all())
    return {i: (asked.get(i, 0), answered.get(i, 0)) for i in survey_ids}


def sent_after(trigger: SurveyTrigger, agency_id: int) -> Survey | None:
    """The agency's open survey that goes out on its own at `trigger`, if any."""
    return db.session.scalar(select(Survey).where(Survey.agency_id == agency_id, Survey.sends_after == trigger,
                                                  Survey.closed.is_(False)))


@dataclass
class TextAnswer:
    text: str
    person: str
    person_id: int
    about: str
    at: datetime


@dataclass
class QuestionResult:
    """One question's figures: answers given, and the average and spread of ratings or the count per option."""

    question: Question
    answered: int = 0
    average: Decimal | None = None
    spread: list[tuple[str, int]] = field(default_factory=list)  # (rating or option, how many)
    texts: list[TextAnswer] = field(default_factory=list)


@dataclass
class Results:
    survey: Survey
    asked: int
    responses: int
    questions: list[QuestionResult]


def results(survey: Survey) -> Results:
    """The survey's figures, computed in the database; averages to two places, half up."""
    by_question = {q.id: QuestionResult(q) for q in survey.questions}
    ratings = db.session.execute(
        select(Answer.question_id, Answer.rating, func.count(Answer.id))
        .join(Response, Response.id == Answer.response_id)
        .where(Response.survey_id == survey.id, Answer.rating.is_not(None))
        .group_by(Answer.question_id, Answer.rating))
    counts: dict[int, dict[str, int]] = {}
    for question_id, value, n in ratings:
        counts.setdefault(question_id, {})[str(value)] = n
    choices = db.session.execute(
        select(Answer.question_id, Answer.choice, func.count(Answer.id))
        .join(Response, Response.id == Answer.response_id)
        .where(Response.survey_id == survey.id, Answer.choice.is_not(None))
        .group_by(Answer.question_id, Answer.choice))
    for question_id, value, n in choices:
        counts.setdefault(question_id, {})[value] = n
    for result in by_question.values():
        q, found = result.question, counts.get(result.question.id, {})
        if q.kind == QuestionKind.RATING:
            result.spread = [(str(r), found.get(str(r), 0)) for r in range(5, 0, -1)]
            result.answered = sum(found.values())
            if result.answered:
                total = sum(int(r) * n for r, n in found.items())
                result.average = (Decimal(total) / result.answered).quantize(Decimal("0.01"), ROUND_HALF_UP)
        elif q.kind == QuestionKind.CHOICE:
            # Every option, in its order, with zero for those nobody chose.
            result.spread = [(option, found.get(option, 0)) for option in q.options]
            result.answered = sum(found.values())
    texts = db.session.execute(
        select(Answer.question_id, Answer.text, Person.name, Person.id, Invitation.about, Response.submitted_at)
        .join(Response, Response.id == Answer.response_id).join(Person, Person.id == Response.person_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .where(Response.survey_id == survey.id, Answer.text.is_not(None))
        .order_by(Response.submitted_at.desc(), Response.id.desc()))
    for question_id, text, name, person_id, about, at in texts:
        if question_id in by_question:
            by_question[question_id].texts.append(TextAnswer(text, name, person_id, about, at))
            by_question[question_id].answered += 1
    asked = db.session.scalar(select(func.count(Invitation.id)).where(Invitation.survey_id == survey.id)) or 0
    responses = db.session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey.id)) or 0
    return Results(survey, asked, responses, [by_question[q.id] for q in survey.questions])


def responses(survey: Survey) -> list[tuple[Response, dict[int, Answer]]]:
    """Each response, oldest first, with its answers by question (for the CSV)."""
    rows = list(db.session.scalars(select(Response).where(Response.survey_id == survey.id)
                                   .order_by(Response.submitted_at, Response.id)))
    answers: dict[int, dict[int, Answer]] = {r.id: {} for r in rows}
    if rows:
        for a in db.session.scalars(select(Answer).join(Response, Response.id == Answer.response_id)
                                    .where(Response.survey_id == survey.id)):
            answers[a.response_id][a.question_id] = a
    return [(r, answers[r.id]) for r in rows]


def recent_invitations(survey: Survey, limit: int = 50) -> list[Invitation]:
    """Who was asked lately, and whether they answered."""
    return list(db.session.scalars(select(Invitation).where(Invitation.survey_id == survey.id)
                                   .order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(limit)))


def people_to_ask(agency_id: int) -> list[tuple[int, str]]:
    """The agency's people with an e-mail address, by name: whom a survey can be sent to."""
    return [(pid, f"{name} <{email}>") for pid, name, email in db.session.execute(
        select(Person.id, Person.name, Person.email).where(Person.agency_id == agency_id, Person.email.is_not(None),
                                                           Person.email != "").order_by(Person.name, Person.id))]
