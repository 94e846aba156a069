"""Back-office pages for automation: solutions, templates, tasks and the dashboard."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("automation", __name__, url_prefix="/manage/automation", template_folder="templates")
