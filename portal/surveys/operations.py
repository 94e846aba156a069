"""Writes on surveys (flush only; the request or job commits): building one, inviting people, and storing
the one response an invitation takes. A refusal raises FieldError (or Unanswered) and writes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select, update

from portal import clock, db
from portal.operations import FieldError
from portal.people.models import Person
from portal.surveys.models import Answer, Invitation, Question, QuestionKind, Response, Survey, SurveyTrigger

MAX_QUESTIONS = 30
MAX_OPTIONS = 12
MAX_TEXT = 4000
TRIGGERS = {SurveyTrigger.WORKORDER_COMPLETED: "after a work order is completed"}


class Unanswered(Exception):
    """Answers that cannot be stored as given: `errors` maps each question's field (q<id>) to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def has_responses(survey: Survey) -> bool:
    """Whether anyone answered: from then on its questions are fixed (the results must keep their meaning)."""
    return bool(db.session.scalar(select(exists().where(Response.survey_id == survey.id))))


def save_survey(survey: Survey | None, agency_id: int, data: Mapping[str, Any]) -> Survey:
    """Create or update a survey's title, introduction and what sends it on its own."""
    trigger = SurveyTrigger(data["sends_after"]) if data.get("sends_after") else None
    if trigger is not None:
        other = db.session.scalar(select(Survey).where(Survey.sends_after == trigger,
                                                       Survey.id != (survey.id if survey else 0)))
        if other is not None:
            raise FieldError("sends_after", f"“{other.title}” is already sent {TRIGGERS[trigger]}: "
                                            "set it to “only when sent by hand” first.")
    if survey is None:
        survey = Survey(agency_id=agency_id)
        db.session.add(survey)
    survey.title = data["title"].strip()
    survey.intro = (data.get("intro") or "").strip()
    survey.sends_after = trigger
    db.session.flush()
    return survey


def set_closed(survey: Survey, closed: bool) -> None:
    """Close a survey (its links stop working) or open it again."""
    survey.closed = closed
    db.session.flush()


def _locked(survey: Survey) -> None:
    if has_responses(survey):
        raise FieldError("prompt", "People have answered this survey, so its questions can no longer change "
                                   "(the results would lose their meaning). Make a new survey instead.")


def parse_options(raw: str | None) -> list[str]:
    """A choice question's options, one per line: trimmed, blank lines left out."""
    return [line.strip() for line in (raw or "").splitlines() if line.strip()]


def add_question(survey: Survey, prompt: str, kind: QuestionKind | str, options: list[str], required: bool) -> Question:
    """Add a question at the end."""
    _locked(survey)
    kind = QuestionKind(kind)
    prompt = (prompt or "").strip()
    if not prompt:
        raise FieldError("prompt", "Write the question.")
    if len(survey.questions) >= MAX_QUESTIONS:
        raise FieldError("prompt", f"A survey can have at most {MAX_QUESTIONS} questions.")
    if kind == QuestionKind.CHOICE:
        if len(options) < 2:
            raise FieldError("options", "Give at least two options, one per line.")
        if len(options) > MAX_OPTIONS:
            raise FieldError("options", f"Give at most {MAX_OPTIONS} options.")
        if len({o.casefold() for o in options}) != len(options):
            raise FieldError("options", "Each option must be different.")
        if any(len(o) > 200 for o in options):
            raise FieldError("options", "Keep each option under 200 characters.")
    elif options:
        # Typed options would be dropped without a word: say so instead.
        raise FieldError("options", f"A {kind.value} question has no options: leave them empty, or make it a "
                                    "choice question.")
    position = max((q.position for q in survey.questions), default=0) + 1
    question = Question(agency_id=survey.agency_id, prompt=prompt, kind=kind, options=options, required=required,
                        position=position)
    survey.questions.append(question)
    db.session.flush()
    return question


def _question(survey: Survey, question_id: int | None) -> Question:
    found = next((q for q in survey.questions if q.id == question_id), None)
    if found is None:
        raise FieldError("question", "That question is not in this survey.")
    return found


def remove_question(survey: Survey, question_id: int | None) -> None:
    """Take a question out (only while nobody has answered)."""
    _locked(survey)
    survey.questions.remove(_question(survey, question_id))
    db.session.flush()


def move_question(survey: Survey, question_id: int | None, up: bool) -> None:
    """Swap a question with the one before (or after) it."""
    _locked(survey)
    question = _question(survey, question_id)
    ordered = list(survey.questions)
    i = ordered.index(question)
    j = i - 1 if up else i + 1
    if 0 <= j < len(ordered):
        ordered[i].position, ordered[j].position = ordered[j].position, ordered[i].position
        db.session.flush()
        db.session.expire(survey, ["questions"])


def invite(survey: Survey, person: Person, about: str = "") -> Invitation:
    """Ask `person` to answer `survey` (about something, for the results); the link acts on this."""
    if person.agency_id != survey.agency_id:
        raise FieldError("people", "That person is not one of the agency's.")
    if survey.closed:
        raise FieldError("people", "This survey is closed: open it again to send it.")
    if not survey.questions:
        raise FieldError("people", "Add a question before sending the survey.")
    invitation = Invitation(agency_id=survey.agency_id, survey_id=survey.id, person_id=person.id, about=about[:200])
    invitation.survey = survey
    db.session.add(invitation)
    db.session.flush()
    return invitation


def _answer(question: Question, form: Mapping[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    """What the form says for one question, as an Answer's values (None when left empty), or why it cannot be."""
    raw = (form.get(f"q{question.id}") or "").strip()
    if not raw:
        return None, ("Please answer this question." if question.required else None)
    if question.kind == QuestionKind.RATING:
        if raw not in {"1", "2", "3", "4", "5"}:
            return None, "Choose a rating from 1 to 5."
        return {"rating": int(raw)}, None
    if question.kind == QuestionKind.CHOICE:
        if raw not in question.options:
            return None, "Choose one of the options listed."
        return {"choice": raw}, None
    if len(raw) > MAX_TEXT:
        return None, f"Keep your answer under {MAX_TEXT} characters."
    return {"text": raw}, None


def respond(invitation: Invitation, form: Mapping[str, str]) -> Response:
    """Store the invitation's one response; Unanswered (nothing written) when an answer is missing or wrong."""
    survey = invitation.survey
    answers, errors = [], {}
    for question in survey.questions:
        values, error = _answer(question, form)
        if error:
            errors[f"q{question.id}"] = error
        elif values is not None:
            answers.append(Answer(agency_id=invitation.agency_id, question_id=question.id, **values))
    if errors:
        raise Unanswered(errors)
    now = clock.now()
    # Marked answered atomically: of two responses racing through two links, one gets the row.
    marked = db.session.execute(update(Invitation).where(Invitation.id == invitation.id,
                                                         Invitation.answered_at.is_(None))
                                .values(answered_at=now).execution_options(synchronize_session=False))
    if marked.rowcount != 1:
        raise FieldError("invitation", "This survey was already answered.")
    db.session.refresh(invitation, ["answered_at"])
    response = Response(agency_id=invitation.agency_id, survey_id=survey.id, invitation_id=invitation.id,
                        person_id=invitation.person_id, submitted_at=now, answers=answers)
    db.session.add(response)
    db.session.flush()
    return response
