"""List (search, filter, paginate), view, create and edit pages for a back-office resource.

Each feature's manage_views.py describes its resource and adds its four routes to the blueprint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, or_, select

from portal.fields import AmountField, failed, parse_date
from portal.operations import FieldError
from portal.pages import get_scoped, page_size, paginate, requested_page


@dataclass
class Filter:
    """A list filter: a select of choices, or a date bound."""

    name: str
    label: str
    apply: Callable[[Select, Any], Select]
    choices: Callable[[], Sequence[tuple[str, str]]] | None = None
    kind: str = "select"

    def parse(self, raw: str) -> Any:
        """The filter value from the query string, or None when absent or malformed."""
        if not raw:
            return None
        if self.kind == "date":
            return parse_date(raw)
        allowed = {str(v) for v, _ in self.choices()} if self.choices else set()
        return raw if raw in allowed else None


def apply_filters(stmt: Select, filters: Sequence[Filter]) -> tuple[Select, dict[str, Any]]:
    """`stmt` narrowed by each filter the query string sets, and the values that are in force."""
    active = {}
    for f in filters:
        value = f.parse(request.args.get(f.name, ""))
        if value is not None:
            stmt = f.apply(stmt, value)
            active[f.name] = value
    return stmt, active


@dataclass
class Column:
    """A column of the list table."""

    label: str
    value: Callable[[Any], Any]
    link: bool = False


@dataclass
class Resource:
    """A back-office resource: a model, its form, its list and the operation that saves it."""

    name: str
    singular: str
    model: type
    form_class: type[FlaskForm]
    columns: list[Column]
    save: Callable[[Any, int, dict[str, Any]], Any]
    search: list[Any] = field(default_factory=list)
    search_joins: list[Any] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    order_by: list[Any] = field(default_factory=list)
    prepare_form: Callable[[FlaskForm], None] = lambda form: None
    form_data: Callable[[Any], dict[str, Any]] = lambda obj: {}
    related: Callable[[Any], dict[str, Any]] = lambda obj: {}

    def get(self, obj_id: int) -> Any:
        """The current agency's object by id, or a 404."""
        return get_scoped(self.model, obj_id)

    def list_view(self):
        args = request.args
        stmt = select(self.model)
        q = (args.get("q") or "").replace("\x00", "").strip()[:100]
        if q and self.search:
            for join in self.search_joins:
                stmt = stmt.outerjoin(join)
            stmt = stmt.where(or_(*[col.icontains(q, autoescape=True) for col in self.search]))
        stmt, active = apply_filters(stmt, self.filters)
        stmt = stmt.order_by(*self.order_by)
        page = paginate(stmt, requested_page(), page_size())
        return render_template("manage/list.html", resource=self, page=page, q=q, active=active)

    def detail_view(self, obj_id: int):
        obj = self.get(obj_id)
        return render_template(
            f"manage/{self.name}_detail.html", resource=self, obj=obj, **self.related(obj)
        )

    def form_view(self, obj_id: int | None = None):
        obj = self.get(obj_id) if obj_id is not None else None
        form = self.form_class(data=self.form_data(obj) if obj is not None and request.method == "GET" else None)
        self.prepare_form(form)
        for f in form:
            if isinstance(f, AmountField):
                f.currency = current_user.agency.currency
        status = 200
        if form.validate_on_submit():
            try:
                saved = self.save(obj, current_user.agency_id, form.data)
            except FieldError as err:
                if not failed(err, form):  # the refusal names no field of this form: say it above the form
                    flash(err.message, "error")
                status = 422
            else:
                flash(f"{self.singular.capitalize()} saved.", "success")
                return redirect(url_for(f"manage.{self.name}_detail", obj_id=saved.id))
        elif form.is_submitted():
            status = 422
        return render_template("manage/form.html", resource=self, form=form, obj=obj), status
