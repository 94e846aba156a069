"""Agency mail templates rendered in Jinja's sandbox (S9), within a hard budget.

Rendering is pure: `link(...)` leaves a marker, and only once every part has rendered are
the one-time links created and put in place, so a template that fails writes nothing.

Every render has a budget enforced *while* it runs, not after: the size of each value it
builds, the characters and items it builds in all, its loop iterations, its output and its
wall-clock time. Whatever could build a value (operators, `~`, literals, calls, filters,
printing, joined blocks) is checked before or as the value is made, so a template can
neither grow the process by more than a few MB nor hold it for more than a moment."""

from __future__ import annotations

import contextvars
import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.compiler import CodeGenerator
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Namespace, _PassArg, pass_context

MAX_OUTPUT = 200_000  # characters per rendered part
MAX_VALUE = 100_000  # the largest string or list (characters, items) a template may build
MAX_TOTAL = 1_000_000  # characters and items built in all by one render: what bounds its memory
MAX_ITERATIONS = 10_000  # loop iterations per render
MAX_SECONDS = 0.5  # wall-clock time per render
MAX_SEQUENCE = 1_000  # the most items range() makes, and the widest padding a format may ask for
MAX_LOOP_DEPTH = 2  # loops inside loops
MAX_INT_BITS = 4_096  # numbers a template may compute
ITEM = 4  # what an item of a list or dict counts for (its share of a repr: quotes, comma, space)
GLOBALS = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace", "link", "loop"})


class TemplateProblem(Exception):
    """A template that cannot be rendered: syntax, an unknown merge field, an unsafe construct."""


class OverBudget(SecurityError):
    """A render that would go over its budget (size, iterations or time)."""


# -- the budget -------------------------------------------------------------------------


@dataclass
class _Budget:
    deadline: float
    total: int = 0
    iterations: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise OverBudget(f"it takes longer than {MAX_SECONDS:g} s to render")

    def allow(self, size: int) -> None:
        """Refuse a value of `size` before it is built."""
        if size > MAX_VALUE:
            raise OverBudget(f"it would build a value of more than {MAX_VALUE:,} characters or items")

    def take(self, size: int) -> None:
        """Count a value built (or about to be) against the render's total."""
        self.allow(size)
        self.total += size
        if self.total > MAX_TOTAL:
            raise OverBudget(f"it builds more than {MAX_TOTAL:,} characters or items in all")
        self.tick()


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("portico_template_budget", default=None)


def _budget() -> _Budget:
    # Outside render() (Jinja evaluating a constant while compiling) a fresh budget applies.
    return _BUDGET.get() or _Budget(time.monotonic() + MAX_SECONDS)


_CONTAINERS = (list, tuple, set, frozenset)


def _size(value: Any, limit: int = MAX_VALUE) -> int:
    """How big `value` is as text (characters, and items with all they hold); stops past `limit`."""
    total, stack = 0, [value]
    while stack and total <= limit:
        v = stack.pop()
        if isinstance(v, (str, bytes)):
            total += len(v)
        elif isinstance(v, bool) or v is None:
            total += 1
        elif isinstance(v, int):
            total += v.bit_length() // 3 + 1
        elif isinstance(v, dict):
            total += ITEM * len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, _CONTAINERS):
            total += ITEM * len(v)
            stack.extend(v)
        elif isinstance(v, Namespace):
            stack.append(v._Namespace__attrs)  # its repr shows every attribute
        elif isinstance(v, range):
            total += ITEM * len(v)
        else:
            total += 1
    return total


def _made(value: Any) -> Any:
    """Count a value a call or filter returned, when it can hold text."""
    if isinstance(value, (str, bytes, dict, Namespace, *_CONTAINERS)):
        _budget().take(_size(value))
    return value


def _loop(iterable: Iterable[Any]) -> Iterator[Any]:
    """A for loop's items, each counted and the clock checked."""
    budget = _budget()
    for item in iterable:
        budget.iterations += 1
        if budget.iterations > MAX_ITERATIONS:
            raise OverBudget(f"its loops run more than {MAX_ITERATIONS:,} times")
        budget.tick()
        yield item


def _literal(value: Any) -> Any:
    # A literal holds values already counted: only its own items are new, but it may not be huge as text.
    budget = _budget()
    budget.allow(_size(value))
    budget.take(ITEM * len(value))
    return value


def _parts(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # The operands of `~`, measured before they are turned into text and joined.
    budget = _budget()
    size = 0
    for v in values:
        size += _size(v, MAX_VALUE - size)
        budget.allow(size)
    budget.take(size)
    return values


def _concat(parts: Iterable[str]) -> str:
    # Joins the output of `{% set %}...{% endset %}` and `{% filter %}` blocks.
    parts = list(parts)
    budget = _budget()
    size = 0
    for p in parts:
        size += len(p)
        budget.allow(size)
    budget.take(size)
    return "".join(parts)


def _finalize(value: Any) -> Any:
    # Every {{ ... }} passes here before it is printed.
    _budget().take(_size(value))
    return value


# -- estimates of what a call would build, checked before it is made -----------------------

_WIDTH = re.compile(r"(\d{4,})")
_STAR_WIDTH = re.compile(r"%[^a-zA-Z%]*\*")  # '%*s': the width comes from the arguments
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")  # '{:{w}}': likewise


def _check_widths(pattern: str) -> None:
    """Refuse printf- or format-style padding wide enough (or unknowable enough) to build a huge string."""
    if any(int(n) > MAX_SEQUENCE for n in _WIDTH.findall(pattern)) or _STAR_WIDTH.search(pattern) \
            or _NESTED_SPEC.search(pattern):
        raise SecurityError("that width is too large for a template")


def _escape_factor(s: Any) -> int:
    return 6 if hasattr(s, "__html__") else 1  # Markup escapes what it takes in: '&' becomes '&amp;'


def _format_estimate(pattern: str, args: Iterable[Any], marker: str) -> int:
    """At most: the pattern, plus each placeholder filled with the largest argument at the widest width."""
    _check_widths(pattern)
    largest = max((_size(a) for a in args), default=0)
    return len(pattern) + pattern.count(marker) * (largest * _escape_factor(pattern) + MAX_SEQUENCE)


def _mod_args(right: Any) -> list[Any]:
    if isinstance(right, dict):
        return list(right.values())
    return list(right) if isinstance(right, tuple) else [right]


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) else default


def _replace_estimate(s: Any, old: Any = "", new: Any = "", count: Any = None, *_: Any) -> int:
    if not isinstance(s, (str, bytes)) or not isinstance(old, (str, bytes)):
        return _size(s)
    n = len(s) + 1 if not old else s.count(old)
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    return len(s) + n * max(0, _size(new) * _escape_factor(s) - len(old))


def _pad_estimate(s: Any, width: Any = 0, *_: Any) -> int:
    return max(_size(s), _int(width))


def _join_estimate(sep: Any, items: Any) -> int:
    items = list(items) if isinstance(items, (list, tuple, set, frozenset, dict, str)) else []
    return sum(_size(i) for i in items) * _escape_factor(sep) + _size(sep) * len(items)


# str (and bytes, Markup) methods that can build far more than they are given.
_METHOD_ESTIMATES: dict[str, Callable[..., int]] = {
    "ljust": _pad_estimate, "rjust": _pad_estimate, "center": _pad_estimate, "zfill": _pad_estimate,
    "replace": _replace_estimate,
    "expandtabs": lambda s, tabsize=8, *_: len(s) + s.count("\t" if isinstance(s, str) else b"\t") * _int(tabsize, 8),
    "join": _join_estimate,
}
_JINJA_KWARGS = frozenset({"_loop_vars", "_block_vars"})  # what Jinja passes along with a call itself
_REFUSED_METHODS = frozenset({"translate", "maketrans", "to_bytes"})  # each could build anything


def _filter_estimates() -> dict[str, Callable[..., int]]:
    def join(value: Any, d: Any = "", attribute: Any = None) -> int:
        return sum(_size(i) for i in value) + _size(d) * len(value)

    def indent(s: Any, width: Any = 4, *_: Any) -> int:
        text = str(s)
        return len(text) + (text.count("\n") + 1) * (len(width) if isinstance(width, str) else _int(width, 4))

    def wordwrap(s: Any, width: Any = 79, break_long_words: Any = True, wrapstring: Any = None, *_: Any) -> int:
        text = str(s)
        lines = len(text) // max(_int(width, 79), 1) + text.count("\n") + 1
        return len(text) + lines * (len(wrapstring) if isinstance(wrapstring, str) else 1)

    def format_(value: Any, *args: Any, **kwargs: Any) -> int:
        if not isinstance(value, str):
            return 0
        return _format_estimate(value, [*args, *kwargs.values()], "%")

    def sum_(iterable: Any, attribute: Any = None, start: Any = 0) -> int:
        if not isinstance(start, (int, float)) or isinstance(start, bool):
            raise SecurityError("sum() adds numbers in templates")
        return 0

    def pieces(value: Any, count: Any = 1, fill_with: Any = None) -> int:
        return _size(value) + ITEM * max(_int(count, 1), 0)

    def urlize(value: Any, trim: Any = None, nofollow: Any = False, target: Any = None, rel: Any = None,
               *_: Any, **kw: Any) -> int:
        text = str(value)
        extra = sum(len(x) for x in (target or kw.get("target"), rel or kw.get("rel")) if isinstance(x, str))
        return 3 * len(text) + (text.count(".") + text.count("@") + 1) * (extra + 60)

    return {"join": join, "replace": _replace_estimate, "center": _pad_estimate, "indent": indent,
            "wordwrap": wordwrap, "format": format_, "sum": sum_, "batch": pieces, "slice": pieces, "urlize": urlize}


_FILTER_ESTIMATES = _filter_estimates()
_MATERIALIZE = frozenset({"join", "sum", "slice"})  # filters whose input must be counted before they run


def _budgeted_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter that checks what it would build, and counts what it built."""
    pass_arg = _PassArg.from_obj(original)
    estimate = _FILTER_ESTIMATES.get(name)

    # pass_context also keeps Jinja from running the filter on constants while compiling.
    @pass_context
    def wrapped(context: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.tick()
        if estimate is not None:
            if name in _MATERIALIZE and not isinstance(value, (str, list, tuple, dict)):
                value = list(_loop(value))
            budget.allow(estimate(value, *args, **kwargs))
        if pass_arg is _PassArg.context:
            result = original(context, value, *args, **kwargs)
        elif pass_arg is _PassArg.eval_context:
            result = original(context.eval_ctx, value, *args, **kwargs)
        elif pass_arg is _PassArg.environment:
            result = original(context.environment, value, *args, **kwargs)
        else:
            result = original(value, *args, **kwargs)
        return _made(result)

    return wrapped


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise SecurityError(f"range() is limited to {MAX_SEQUENCE} items in templates")
    return r


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    from jinja2.utils import generate_lorem_ipsum

    _budget().allow(_int(n, 5) * _int(max, 100) * 12)
    return generate_lorem_ipsum(n, html, min, max)


# -- the environment ---------------------------------------------------------------------


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, with literals and `~` passing the budget as they are built."""

    def _wrap(self, name: str, visit: Callable[[], None]) -> None:
        self.write(f"environment.{name}(")
        visit()
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Any) -> None:
        self._wrap("portico_literal", lambda: super(_CodeGenerator, self).visit_List(node, frame))

    def visit_Dict(self, node: nodes.Dict, frame: Any) -> None:
        self._wrap("portico_literal", lambda: super(_CodeGenerator, self).visit_Dict(node, frame))

    def visit_Tuple(self, node: nodes.Tuple, frame: Any) -> None:
        if node.ctx != "load":  # an assignment target, not a value
            super().visit_Tuple(node, frame)
        else:
            self._wrap("portico_literal", lambda: super(_CodeGenerator, self).visit_Tuple(node, frame))

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.portico_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, with every way of building a value checked against the render's budget."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    portico_literal = staticmethod(_literal)
    portico_parts = staticmethod(_parts)
    portico_loop = staticmethod(_loop)
    concat = staticmethod(_concat)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _budget()
        budget.tick()
        if operator == "**" and (abs(left) > 1000 or abs(right) > 3):
            raise SecurityError("the power operator is limited in templates")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                    budget.take(_size(seq) * max(n, 0))
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise OverBudget("it computes a number too large for a template")
        elif operator == "+" and isinstance(left, (str, bytes, list, tuple)):
            budget.take(_size(left) + _size(right) * _escape_factor(left))
        elif operator == "%" and isinstance(left, str):
            budget.take(_format_estimate(left, _mod_args(right), "%"))
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.tick()
        owner, name = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(owner, (str, bytes, int)) and not isinstance(owner, bool):
            if name in _REFUSED_METHODS:
                raise SecurityError(f"{name}() is not available in templates")
            estimate = _METHOD_ESTIMATES.get(name)
            if estimate is not None and isinstance(owner, (str, bytes)):
                if name == "join" and args and not isinstance(args[0], (str, list, tuple, dict, set, frozenset)):
                    args = (list(_loop(args[0])), *args[1:])
                given = {k: v for k, v in kwargs.items() if k not in _JINJA_KWARGS}
                budget.allow(estimate(owner, *args, **given) if name != "join" else estimate(owner, *args))
        return _made(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        pattern = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            values = [*args, *kwargs.values()]
            if value.__name__ == "format_map" and args and isinstance(args[0], dict):
                values = list(args[0].values())
            _budget().allow(_format_estimate(pattern, values, "{"))
            return _made(wrapper(*args, **kwargs))

        return checked

    def getattr(self, obj: Any, attribute: str) -> Any:
        _budget().tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _budget().tick()
        value = super().getitem(obj, argument)
        return _made(value) if isinstance(argument, slice) else value  # a slice is a copy


def _environment(html: bool) -> _Environment:
    env = _Environment(autoescape=html, undefined=StrictUndefined, optimized=False, finalize=_finalize)
    env.globals["range"] = _range
    env.globals["lipsum"] = _lipsum
    env.filters = {name: _budgeted_filter(name, f) for name, f in env.filters.items()}
    return env


_HTML = _environment(html=True)
_TEXT = _environment(html=False)


def _loop_depth(node: nodes.Node) -> int:
    inner = max((_loop_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + 1 if isinstance(node, nodes.For) else inner


_REFUSED_NODES = {
    nodes.Macro: "macros", nodes.CallBlock: "call blocks", nodes.Block: "blocks", nodes.Extends: "extends",
    nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "import",
}


def _check_shape(tree: nodes.Template) -> None:
    # A mail merge needs none of these; they could recurse, hide loops inside loops or join
    # text behind the budget's back.
    for node_type, name in _REFUSED_NODES.items():
        if tree.find(node_type) is not None:
            raise SecurityError(f"{name} are not available in mail templates")
    if any(loop.recursive for loop in tree.find_all(nodes.For)):
        raise SecurityError("recursive loops are not available in mail templates")
    if _loop_depth(tree) > MAX_LOOP_DEPTH:
        raise SecurityError(f"loops may be nested at most {MAX_LOOP_DEPTH} deep in templates")


@dataclass(frozen=True)
class _Compiled:
    template: Template
    names: frozenset[str]  # the merge fields (top-level names) it uses
    actions: frozenset[str]  # the link() actions it names
    dynamic_links: bool  # link() with an action that is not written out


CACHED_SOURCE = 20_000  # longer sources are compiled each time: a cache of them could hold hundreds of MB


def _compiled(source: str, html: bool) -> _Compiled:
    return _compiled_cached(source, html) if len(source) <= CACHED_SOURCE else _compile(source, html)


@lru_cache(maxsize=256)
def _compiled_cached(source: str, html: bool) -> _Compiled:
    # Compiling costs far more than rendering; a template's text is its own cache key.
    return _compile(source, html)


def _compile(source: str, html: bool) -> _Compiled:
    env = _HTML if html else _TEXT
    tree = env.parse(source)
    _check_shape(tree)
    actions, dynamic = set(), False
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "link":
            arg = call.args[0] if call.args else None
            if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                actions.add(arg.value)
            else:
                dynamic = True
    names = frozenset(find_undeclared_variables(tree) - GLOBALS)
    for loop in tree.find_all(nodes.For):  # every loop counts its items against the budget
        loop.iter = nodes.Call(nodes.EnvironmentAttribute("portico_loop"), [loop.iter], [], None, None,
                               lineno=loop.lineno)
    return _Compiled(env.from_string(tree), names, frozenset(actions), dynamic)


# The documented merge fields, by what a solution is about (shown next to the template editor).
FIELDS: dict[str, list[str]] = {
    "booking": ["reference", "arrival", "departure", "nights", "status", "channel", "payment_type", "adults",
                "amount_due", "amount_paid", "balance", "portal_url"],
    "guest": ["name", "first_name", "email"],
    "owner": ["name", "first_name", "email"],
    "unit": ["name", "property", "address", "code"],
    "agency": ["name", "timezone"],
    "charge": ["description", "amount", "due_date", "balance"],
    "review": ["rating", "comment"],
    "appointment": ["title", "starts_at", "duration_minutes", "status"],
    "person": ["name", "first_name", "email"],
    "tenant": ["name", "first_name", "email"],
    "work_order": ["id", "title", "status", "kind", "description", "priority", "estimate", "scheduled_at", "reason",
                   "progress", "news"],
    "vendor": ["name", "first_name", "email"],
    "invoice": ["number", "total", "subtotal", "tax", "status", "paid_amount", "paid_on", "payment_reference",
                "vendor_url"],
    "requester": ["name", "first_name", "email"],
    "applicant": ["name", "first_name", "email", "phone", "kind", "move_in", "arrival", "departure", "dates",
                  "message", "status", "reason", "owner_url"],
    "violation": ["id", "rule", "category", "description", "status", "observed_on", "occupancy", "photos",
                  "portal_url"],
    "quote": ["id", "insurer", "product", "cover", "premium", "status", "valid_until", "occupancy", "portal_url"],
    "occupant": ["name", "first_name", "email"],
    "recipient": ["name", "first_name", "email"],
    "statement": ["month", "currency", "opening", "closing", "income", "expenses", "fees", "portal_url"],
    "survey": ["title"],
}
GROUPS: dict[str, list[str]] = {
    "booking": ["booking", "guest", "unit", "owner", "agency", "charge", "recipient"],
    "review": ["booking", "guest", "unit", "owner", "agency", "charge", "review", "recipient"],
    "charge": ["charge", "tenant", "unit", "agency", "recipient"],
    "appointment": ["appointment", "person", "unit", "agency", "recipient"],
    "workorder": ["work_order", "requester", "vendor", "unit", "agency", "survey", "recipient"],
    "invoice": ["invoice", "work_order", "vendor", "unit", "agency", "recipient"],
    "statement": ["statement", "owner", "agency", "recipient"],
    "applicant": ["applicant", "unit", "agency", "recipient"],
    "violation": ["violation", "occupant", "unit", "agency", "recipient"],
    "insurance_quote": ["quote", "occupant", "unit", "agency", "recipient"],
}
LINKS: dict[str, list[str]] = {"booking": ["pay", "review"], "review": [], "charge": ["pay"],
                               "appointment": ["appointment"],
                               "workorder": ["order_approval", "order_acceptance", "survey"],
                               "invoice": ["invoice_approval"], "statement": ["statement"],
                               "applicant": ["applicant_approval"], "violation": ["violation_response"],
                               "insurance_quote": ["insurance_quote"]}
SUBJECT_LABELS = {"booking": "bookings", "review": "reviews", "charge": "charges", "appointment": "appointments",
                  "workorder": "work orders", "invoice": "invoices", "statement": "statements",
                  "applicant": "applicants", "violation": "violation notices", "insurance_quote": "insurance quotes"}


class LinkProblem(Exception):
    """A one-time link a template asked for that cannot be made (the mail must not go without it)."""


@dataclass
class Rendered:
    """A rendered message, with markers where one-time links go."""

    subject: str
    html: str
    text: str
    links: dict[str, str] = field(default_factory=dict)  # marker -> action

    def fill(self, make_link: Callable[[str], str]) -> Rendered:
        """Create the links the template asked for and put their URLs in place of the markers;
        `make_link` raises LinkProblem for a link it cannot make."""
        subject, html, text = self.subject, self.html, self.text
        for marker, action in self.links.items():
            url = make_link(action)
            if not url:
                raise LinkProblem(f"link({action!r}) could not be made")
            subject, html, text = subject.replace(marker, url), html.replace(marker, url), text.replace(marker, url)
        return Rendered(subject, html, text)


def sample(subject_name: str) -> dict[str, Any]:
    """A context with every merge field of `subject_name`, for checking and previews."""
    return {group: {f: f"[{group}.{f}]" for f in FIELDS[group]} for group in GROUPS[subject_name]}


_PARTS = (("subject", False), ("HTML", True), ("text", False))


def _problem(name: str, exc: BaseException) -> TemplateProblem:
    if isinstance(exc, OverBudget):
        return TemplateProblem(f"{name}: over the rendering budget: {exc}")
    if isinstance(exc, SecurityError):
        return TemplateProblem(f"{name}: not allowed in a template: {exc}")
    if isinstance(exc, TemplateError):
        line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        return TemplateProblem(f"{name}{line}: {exc.message or exc}")
    return TemplateProblem(f"{name}: {type(exc).__name__}: {exc}")


_ERRORS = (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError, RecursionError, MemoryError)


def _compile_part(name: str, source: str, html: bool) -> _Compiled | None:
    if not source:
        return None
    try:
        return _compiled(source, html)
    except _ERRORS as exc:
        raise _problem(name, exc) from exc


def _render_part(compiled: _Compiled, values: dict[str, Any]) -> str:
    budget = _budget()
    out: list[str] = []
    size = 0
    for chunk in compiled.template.generate(values):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise OverBudget(f"the rendered text is longer than {MAX_OUTPUT:,} characters")
        budget.tick()
        out.append(chunk)
    return "".join(out)


def render(subject: str, html: str, text: str, context: dict[str, Any], actions: list[str]) -> Rendered:
    """Render the three parts in the sandbox, within one budget; raises TemplateProblem with a
    reason people can read."""
    links: dict[str, str] = {}

    def link(action: str) -> str:
        if action not in actions:
            raise SecurityError(f"link({action!r}) is not available here; use one of {actions or 'none'}")
        marker = f"portico-link-{secrets.token_hex(6)}"
        links[marker] = action
        return marker

    values = {**context, "link": link}
    parts = []
    token = _BUDGET.set(_Budget(time.monotonic() + MAX_SECONDS))
    try:
        for (name, is_html), source in zip(_PARTS, (subject, html, text), strict=True):
            compiled = _compile_part(name, source, is_html)
            try:
                parts.append(_render_part(compiled, values) if compiled else "")
            except _ERRORS as exc:
                raise _problem(name, exc) from None  # the budget's reason, not Jinja's rewritten traceback
    finally:
        _BUDGET.reset(token)
    subject_line = " ".join(parts[0].split())  # one line: a header cannot hold a line break
    if not subject_line:
        raise TemplateProblem("subject: renders empty")
    return Rendered(subject_line[:500], parts[1], parts[2], links)


def check(subject_name: str, subject: str, html: str, text: str) -> str | None:
    """Why this template cannot be used for `subject_name` objects, or None (one render)."""
    try:
        render(subject, html, text, sample(subject_name), LINKS[subject_name])
    except TemplateProblem as exc:
        return str(exc)
    return None


def _allowed(subject_name: str) -> set[str]:
    return set(GROUPS[subject_name])


def _fits(compiled: list[_Compiled], subject_name: str) -> bool:
    names = set().union(*(c.names for c in compiled))
    actions = set().union(*(c.actions for c in compiled))
    return names <= _allowed(subject_name) and actions <= set(LINKS[subject_name])


_SUBJECTS: dict[str, tuple[str, ...]] = {}  # digest of a template's parts -> subjects_for()


def subjects_for(subject: str, html: str, text: str) -> tuple[str, ...]:
    """What kinds of object the template's merge fields and links can be filled for (no render)."""
    key = hashlib.sha256("\x00".join((subject, html, text)).encode()).hexdigest()
    if key not in _SUBJECTS:
        if len(_SUBJECTS) >= 1024:
            _SUBJECTS.clear()
        _SUBJECTS[key] = _subjects_for(subject, html, text)
    return _SUBJECTS[key]


def _subjects_for(subject: str, html: str, text: str) -> tuple[str, ...]:
    try:
        compiled = [c for (name, is_html), source in zip(_PARTS, (subject, html, text), strict=True)
                    if (c := _compile_part(name, source, is_html)) is not None]
    except TemplateProblem:
        return ()
    return tuple(s for s in GROUPS if _fits(compiled, s))


def usable(subject: str, html: str, text: str) -> tuple[tuple[str, ...], str | None]:
    """The kinds of object a template can be used for, or why none: checked once, with one render."""
    compiled: dict[str, _Compiled] = {}
    try:
        for (name, is_html), source in zip(_PARTS, (subject, html, text), strict=True):
            if (c := _compile_part(name, source, is_html)) is not None:
                compiled[name] = c
    except TemplateProblem as exc:
        return (), str(exc)
    fits = tuple(s for s in GROUPS if _fits(list(compiled.values()), s))
    if not fits:
        return (), _why_none(compiled)
    problem = check(fits[0], subject, html, text)
    return (fits, None) if problem is None else ((), problem)


def _why_none(compiled: dict[str, _Compiled]) -> str:
    every = set().union(*GROUPS.values())
    for name, c in compiled.items():
        unknown = sorted(c.names - every)
        if unknown:
            return f"{name}: {unknown[0]!r} is not a merge field"
    every_action = set().union(*LINKS.values())
    for name, c in compiled.items():
        unknown = sorted(c.actions - every_action)
        if unknown:
            return f"{name}: link({unknown[0]!r}) is not available; use one of {sorted(every_action)}"
    used = set().union(*(c.names for c in compiled.values()))
    first = next(iter(compiled))
    return (f"{first}: no kind of solution has all of these merge fields together: {', '.join(sorted(used))} "
            f"(nor these links: {', '.join(sorted(set().union(*(c.actions for c in compiled.values()))))})")
