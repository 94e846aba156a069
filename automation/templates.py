"""Agency mail templates rendered in Jinja's sandbox (S9).

Rendering is pure: `link(...)` leaves a marker, and only once every part has rendered are
the one-time links created and put in place, so a template that fails writes nothing."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_OUTPUT = 200_000  # characters per rendered part
MAX_SEQUENCE = 1_000  # the longest string or list a template may build by multiplication, or range()
MAX_LOOP_DEPTH = 2  # loops inside loops: with MAX_SEQUENCE this bounds a render at ~10^6 steps


class TemplateProblem(Exception):
    """A template that cannot be rendered: syntax, an unknown merge field, an unsafe construct."""


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, with the operators and formats that could build a huge value capped."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and (abs(left) > 1000 or abs(right) > 3):
            raise SecurityError("the power operator is limited in templates")
        if operator == "%" and isinstance(left, str):
            _check_widths(left)
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
                    raise SecurityError("that value would be too long")
        return super().call_binop(context, operator, left, right)

    def format_string(self, s: str, args: Any, kwargs: Any, format_func: Any = None) -> str:
        _check_widths(s)
        return super().format_string(s, args, kwargs, format_func)


_WIDTH = re.compile(r"(\d{4,})")


_STAR_WIDTH = re.compile(r"%[^a-zA-Z%]*\*")  # '%*s': the width comes from the arguments
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")  # '{:{w}}': likewise


def _check_widths(pattern: str) -> None:
    """Refuse printf- or format-style padding wide enough (or unknowable enough) to build a huge string."""
    if any(int(n) > MAX_SEQUENCE for n in _WIDTH.findall(pattern)) or _STAR_WIDTH.search(pattern) \
            or _NESTED_SPEC.search(pattern):
        raise SecurityError("that width is too large for a template")


def _capped(name: str, position: int = 1) -> Any:
    """A built-in filter whose width argument (e.g. center(80)) is capped."""
    original = _TEXT_FILTERS[name]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[position:position + 1], *kwargs.values()):
            if isinstance(value, int) and value > MAX_SEQUENCE:
                raise SecurityError(f"{name}() is limited to a width of {MAX_SEQUENCE} in templates")
        if name == "format" and args and isinstance(args[0], str):
            _check_widths(args[0])
        return original(*args, **kwargs)

    return wrapped


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise SecurityError(f"range() is limited to {MAX_SEQUENCE} items in templates")
    return r


_HTML = _Environment(autoescape=True, undefined=StrictUndefined)
_TEXT = _Environment(autoescape=False, undefined=StrictUndefined)
_TEXT_FILTERS = dict(_TEXT.filters)
for _env in (_HTML, _TEXT):
    _env.globals["range"] = _range
    for _name in ("center", "indent", "wordwrap", "truncate", "format"):
        _env.filters[_name] = _capped(_name)


def _loop_depth(node: nodes.Node) -> int:
    inner = max((_loop_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + 1 if isinstance(node, nodes.For) else inner


def _check_shape(tree: nodes.Template) -> None:
    # Macros and call blocks could recurse or hide loops inside loops: a mail merge needs neither.
    if tree.find(nodes.Macro) is not None or tree.find(nodes.CallBlock) is not None:
        raise SecurityError("macros are not available in mail templates")
    if _loop_depth(tree) > MAX_LOOP_DEPTH:
        raise SecurityError(f"loops may be nested at most {MAX_LOOP_DEPTH} deep in templates")


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Template:
    # Compiling costs far more than rendering; a template's text is its own cache key.
    env = _HTML if html else _TEXT
    _check_shape(env.parse(source))
    return env.from_string(source)

# The documented merge fields, by what a solution is about (shown next to the template editor).
FIELDS: dict[str, list[str]] = {
    "booking": ["reference", "arrival", "departure", "nights", "status", "channel", "payment_type", "adults",
                "amount_due", "amount_paid", "balance"],
    "guest": ["name", "first_name", "email"],
    "owner": ["name", "first_name", "email"],
    "unit": ["name", "property", "address", "code"],
    "agency": ["name", "timezone"],
    "charge": ["description", "amount", "due_date", "balance"],
    "review": ["rating", "comment"],
    "appointment": ["title", "starts_at", "duration_minutes", "status"],
    "person": ["name", "first_name", "email"],
    "tenant": ["name", "first_name", "email"],
    "work_order": ["id", "title", "status", "kind"],
    "requester": ["name", "first_name", "email"],
    "recipient": ["name", "first_name", "email"],
}
GROUPS: dict[str, list[str]] = {
    "booking": ["booking", "guest", "unit", "owner", "agency", "charge", "recipient"],
    "review": ["booking", "guest", "unit", "owner", "agency", "charge", "review", "recipient"],
    "charge": ["charge", "tenant", "unit", "agency", "recipient"],
    "appointment": ["appointment", "person", "unit", "agency", "recipient"],
    "workorder": ["work_order", "requester", "unit", "agency", "recipient"],
}
LINKS: dict[str, list[str]] = {"booking": ["pay"], "review": [], "charge": ["pay"], "appointment": ["appointment"],
                               "workorder": []}


@dataclass
class Rendered:
    """A rendered message, with markers where one-time links go."""

    subject: str
    html: str
    text: str
    links: dict[str, str] = field(default_factory=dict)  # marker -> action

    def fill(self, make_link: Callable[[str], str]) -> Rendered:
        """Create the links the template asked for and put their URLs in place of the markers."""
        subject, html, text = self.subject, self.html, self.text
        for marker, action in self.links.items():
            url = make_link(action)
            subject, html, text = subject.replace(marker, url), html.replace(marker, url), text.replace(marker, url)
        return Rendered(subject, html, text)


def sample(subject_name: str) -> dict[str, Any]:
    """A context with every merge field of `subject_name`, for checking and previews."""
    return {group: {f: f"[{group}.{f}]" for f in FIELDS[group]} for group in GROUPS[subject_name]}


def render(subject: str, html: str, text: str, context: dict[str, Any], actions: list[str]) -> Rendered:
    """Render the three parts in the sandbox; raises TemplateProblem with a reason people can read."""
    links: dict[str, str] = {}

    def link(action: str) -> str:
        if action not in actions:
            raise SecurityError(f"link({action!r}) is not available here; use one of {actions or 'none'}")
        marker = f"portico-link-{secrets.token_hex(6)}"
        links[marker] = action
        return marker

    values = {**context, "link": link}
    parts = []
    for name, source, is_html in (("subject", subject, False), ("HTML", html, True), ("text", text, False)):
        try:
            out = _compiled(source, is_html).render(values) if source else ""
        except SecurityError as exc:
            raise TemplateProblem(f"{name}: not allowed in a template: {exc}") from exc
        except TemplateError as exc:
            line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
            raise TemplateProblem(f"{name}{line}: {exc.message or exc}") from exc
        except (ArithmeticError, TypeError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
            raise TemplateProblem(f"{name}: {type(exc).__name__}: {exc}") from exc
        if len(out) > MAX_OUTPUT:
            raise TemplateProblem(f"{name}: the rendered text is longer than {MAX_OUTPUT} characters")
        parts.append(out)
    subject_line = " ".join(parts[0].split())  # one line: a header cannot hold a line break
    if not subject_line:
        raise TemplateProblem("subject: renders empty")
    return Rendered(subject_line[:500], parts[1], parts[2], links)


def check(subject_name: str, subject: str, html: str, text: str) -> str | None:
    """Why this template cannot be used for `subject_name` objects, or None."""
    try:
        render(subject, html, text, sample(subject_name), LINKS[subject_name])
    except TemplateProblem as exc:
        return str(exc)
    return None
