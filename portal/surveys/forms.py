"""Back-office forms for surveys: the survey itself, a question, whom to send it to."""

from __future__ import annotations

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.fields import ONE_LINE, Form, SelectField, SelectMultipleField, options, record_id
from portal.surveys.models import QuestionKind, SurveyTrigger

SENDS_AFTER = [("", "Only when sent by hand"),
               (SurveyTrigger.WORKORDER_COMPLETED.value, "After a work order is completed (to the person who asked)")]
KINDS = [(QuestionKind.RATING.value, "Rating from 1 to 5"), (QuestionKind.CHOICE.value, "One choice among options"),
         (QuestionKind.TEXT.value, "Free text")]


class SurveyForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(max=200), ONE_LINE])
    intro = TextAreaField("Introduction (shown above the questions)", validators=[Length(max=2000)])
    sends_after = SelectField("Sent automatically", choices=options(SENDS_AFTER), default="",
                              description="With the automation solution “Ask for feedback when work is done” on.")


class QuestionForm(Form):
    prompt = StringField("Question", validators=[DataRequired(), Length(max=300), ONE_LINE])
    kind = SelectField("Type", choices=options(KINDS), default=QuestionKind.RATING.value)
    options = TextAreaField("Options (for a choice: one per line)", validators=[Length(max=3000)])
    required = BooleanField("An answer is required", default=True)


class SendForm(Form):
    people = SelectMultipleField("Send to", coerce=record_id, validators=[InputRequired("Choose at least one person.")],
                                 render_kw={"size": 8})


class QuestionActionForm(Form):
    """Which question a remove or move button is about (the survey checks it is one of its own)."""

    question = StringField(validators=[InputRequired()])
    direction = SelectField(choices=options([("up", "up"), ("down", "down")]), default="up")
