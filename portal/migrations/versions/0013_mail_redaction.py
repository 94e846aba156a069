"""mail log: scrub one-time links and sign-in codes from messages logged before they were redacted

Revision ID: 0013
Revises: 0012
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# Messages are now stored with placeholders (portal.links.placeholder); older rows carry live URLs.
LINK = re.compile(r"https?://[^\s\"'<>]*/l/[a-z_]+(?:~|%7[eE])[A-Za-z0-9_.\-]+")
CODE = re.compile(r"(?<![\d#])\d{6}(?!\d)")
REMOVED = "[one-time link, removed from the log]"

messages = sa.table("messages", sa.column("id", sa.Integer), sa.column("subject", sa.String),
                    sa.column("text_body", sa.Text), sa.column("html_body", sa.Text))


def _scrub(value, signin):
    if value is None:
        return None
    value = LINK.sub(REMOVED, value)
    return CODE.sub("[code removed]", value) if signin else value


def upgrade() -> None:
    bind = op.get_bind()
    found = sa.or_(messages.c.text_body.like("%/l/%"), messages.c.html_body.like("%/l/%"),
                   messages.c.subject == "Your sign-in link")
    for row in bind.execute(sa.select(messages).where(found)).all():
        signin = row.subject == "Your sign-in link"
        bind.execute(sa.update(messages).where(messages.c.id == row.id).values(
            text_body=_scrub(row.text_body, signin), html_body=_scrub(row.html_body, signin)))


def downgrade() -> None:
    pass  # what was scrubbed is gone on purpose
