"""The back office's own form: staff sign-in (each feature's forms live in its package's forms.py)."""

from __future__ import annotations

from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email

from portal.fields import Form


class LoginForm(Form):
    email = EmailField("E-mail", validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField("Password", validators=[DataRequired()])
