"""A survey's questions, the invitations to answer it (one link each), and the answers given."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.types import UTCDateTime, enum_column, utcnow


class QuestionKind(enum.StrEnum):
    RATING = "rating"  # 1 to 5
    CHOICE = "choice"  # one of the listed options
    TEXT = "text"


class SurveyTrigger(enum.StrEnum):
    """What sends a survey on its own, through the automation catalogue's "survey" kind."""

    WORKORDER_COMPLETED = "workorder-completed"


class Survey(AgencyOwned, Base):
    """A questionnaire the agency sends to people; its questions are fixed once someone answered."""

    __tablename__ = "surveys"
    # NULLs are distinct in both databases: any number of surveys sent by hand, one per trigger.
    __table_args__ = (UniqueConstraint("agency_id", "sends_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    sends_after: Mapped[SurveyTrigger | None] = mapped_column(enum_column(SurveyTrigger))
    closed: Mapped[bool] = mapped_column(default=False)  # a closed survey takes no more answers
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    questions: Mapped[list[Question]] = relationship(
        back_populates="survey", order_by="Question.position", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.title


class Question(AgencyOwned, Base):
    """One question: a rating from 1 to 5, one choice among options, or free text."""

    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    prompt: Mapped[str] = mapped_column(String(300))
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)  # a choice question's options, in order
    required: Mapped[bool] = mapped_column(default=True)

    survey: Mapped[Survey] = relationship(back_populates="questions")


class Invitation(AgencyOwned, Base):
    """One person asked to answer one survey (about a work order, say): what a link acts on. It takes one
    response; once answered, every link for it is over."""

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    about: Mapped[str] = mapped_column(String(200), default="")  # "Work order #12: Leaking tap", for the results
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    survey: Mapped[Survey] = relationship()
    person: Mapped[Person] = relationship()

    def link_state(self) -> tuple:
        return (self.answered_at is not None, self.survey.closed)


class Response(AgencyOwned, Base):
    """The answers of one invitation (never two: the unique invitation)."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("invitation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("survey_invitations.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitation: Mapped[Invitation] = relationship()
    person: Mapped[Person] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class Answer(AgencyOwned, Base):
    """One answer: a rating, the option chosen, or text (a skipped optional question has no row)."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint("response_id", "question_id"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int | None]
    choice: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(String(4000))

    response: Mapped[Response] = relationship(back_populates="answers")
