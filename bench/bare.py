"""The baseline: a bare Flask page doing one primary-key select on the same database."""

import os

from flask import Flask
from sqlalchemy import text

from portal.db import make_engine

engine = make_engine(os.environ["DATABASE_URL"])
app = Flask(__name__)


@app.get("/")
def one_select():
    with engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM agencies WHERE id = 1")).scalar_one()
    return f"<p>{name}</p>"
