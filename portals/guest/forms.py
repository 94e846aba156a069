"""Guest portal forms: the stay's options and guests."""

from __future__ import annotations

from typing import Any

from wtforms import Field

from portal.fields import Form, SelectField
from portals.common.forms import PostedText

MAX_GUEST_NAMES = 50  # more than any unit sleeps; the operation checks the unit's capacity


class OptionForm(Form):
    """An option or insurance to add to the stay: one of those the agency offers."""

    option = SelectField("Option", invalid_choice_message="Choose one of the options offered.")


class RemoveOptionForm(Form):
    """The option's charge to take off the stay (the operation checks it is one of the stay's)."""

    charge_id = PostedText()


class NamesField(Field):
    """Every text sent under the field's one name, in order (the guest list's inputs share a name)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        texts = [value for value in valuelist if isinstance(value, str)]
        self.data = [value.replace("\x00", "") for value in texts[:MAX_GUEST_NAMES]]


class GuestsForm(Form):
    """The other guests' names (the operation tidies them and checks the unit's capacity)."""

    guest_name = NamesField(default=list)  # a POST without any form data names no one
