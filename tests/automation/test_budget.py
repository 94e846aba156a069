"""Template rendering budget (issue 9, item 1): the payloads that built hundreds of MB are
refused while rendering, on every path a template renders on (save check, preview, "send me
a test", automated send), and the process's peak memory barely moves."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from automation import dispatcher, rendering
from automation.models import MailTemplate, Task, TaskStatus
from portal import db
from portal.agencies.models import Agency
from portal.messages.models import Message
from tests import factories as f
from tests.conftest import csrf_token

BASE = "/manage/automation"
PEAK_MB = 32  # generous: each payload below, unbudgeted, peaks at 130 MB to over 300 MB

PAYLOADS = {
    "join of joins (300 MB)": '{% set s="y"*1000 %}{% set s=([s]*1000)|join %}{% set s=([s]*300)|join %}{{ s }}',
    "ljust (300 MB)": '{{ "x".ljust(300000000) }}',
    "loops of replaces (2^26 characters)": '{% set ns = namespace(s="x") %}{% for i in range(26) %}'
                                           '{% set ns.s = ns.s.replace("x", "xx") %}{% endfor %}{{ ns.s|length }}',
}
HARMLESS = "Hello {{ recipient.first_name }}, see you on {{ booking.arrival }}."


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc/self/status")


class PeakMemory:
    """The process's peak resident memory (VmHWM) during a block, above what it held before."""

    def __enter__(self) -> PeakMemory:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # resets the high-water mark to the current resident size
        self.before = _status_kb("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.grew_mb = (_status_kb("VmHWM") - self.before) / 1024


@pytest.fixture
def world(app, client, login):
    """A signed-in manager; a booking; a stored template (as saved before the budget) sent by an active solution."""
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        tpl = f.template(a, name="Stored", text=HARMLESS)
        f.solution(a, "extra-services", tpl=tpl)
        booking = f.booking(a)
        db.session.commit()
        ids = SimpleNamespace(agency=a.id, template=tpl.id, booking=booking.id)
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    client.ids = ids
    return client


def _store(app, ids, text: str) -> None:
    """Put `text` in the stored template behind the form's back, and make its task due again."""
    with app.app_context():
        db.scope(db.session, ids.agency)
        db.session.execute(update(MailTemplate).where(MailTemplate.id == ids.template).values(text_body=text))
        db.session.execute(update(Task).values(status=TaskStatus.PENDING, reason=None, claimed_until=None, attempts=0,
                                               claim=None).execution_options(all_agencies=True))
        db.session.commit()


def _paths(app, client, run_jobs):
    """Each place a template renders, as a function returning what the user is told."""
    ids = client.ids

    def save():
        page = client.get(f"{BASE}/templates/new")
        response = client.post(f"{BASE}/templates/new", data={
            "csrf_token": csrf_token(page.text), "name": "New", "subject": "Hi", "html_body": "",
            "text_body": app.config["PAYLOAD"]})
        return response.status_code, response.text

    def preview():
        response = client.get(f"{BASE}/templates/{ids.template}/preview?booking={ids.booking}")
        return response.status_code, response.text

    def send_test():
        page = client.get(f"{BASE}/templates/{ids.template}/preview")
        response = client.post(f"{BASE}/templates/{ids.template}/test",
                               data={"csrf_token": csrf_token(page.text), "booking": str(ids.booking)})
        return response.status_code, response.text

    def automated():
        with app.app_context():
            dispatcher.dispatch()
        run_jobs()
        with app.app_context():
            task = db.session.scalars(select(Task).execution_options(all_agencies=True)).one()
            return task.status, task.reason or ""

    return {"save check": save, "preview": preview, "send me a test": send_test, "automated send": automated}


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_every_render_path_refuses_the_payload_with_bounded_memory(app, world, run_jobs, smtp_server, payload):
    paths = _paths(app, world, run_jobs)
    app.config["PAYLOAD"] = HARMLESS
    for name, run in paths.items():  # warm up: imports, connections and caches are not the payload's
        if name != "save check":
            run()
    try:
        app.config["PAYLOAD"] = payload
        _store(app, world.ids, payload)
        outcomes = {}
        for name, run in paths.items():
            with PeakMemory() as peak:
                outcomes[name] = run()
            assert peak.grew_mb < PEAK_MB, f"{name}: the process grew by {peak.grew_mb:.0f} MB"
    finally:
        app.config.pop("PAYLOAD", None)
    status, page = outcomes["save check"]
    assert status == 422 and "over the rendering budget" in page and "Nothing was saved" in page
    status, page = outcomes["preview"]
    assert status == 200 and "over the rendering budget" in page
    status, page = outcomes["send me a test"]
    assert status == 422 and "Nothing was sent" in page and "over the rendering budget" in page
    status, reason = outcomes["automated send"]
    assert status == TaskStatus.FAILED and "over the rendering budget" in reason
    with app.app_context():
        db.scope(db.session, world.ids.agency)
        assert db.session.scalar(select(func.count(MailTemplate.id))) == 1  # the refused one was not saved
    assert len(smtp_server.messages) == 2  # the warm-up's test mail and automated mail only


CONTEXT = rendering.sample("booking")


@pytest.mark.parametrize(("payload", "reason"), [
    ('{% set ns = namespace(s="ab") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}',
     "value of more than"),
    ('{% set a = "x"*1000 %}{% set b = [a,a,a,a,a,a,a,a,a,a] %}{% set c = [b,b,b,b,b,b,b,b,b,b] %}'
     '{% set d = [c,c,c,c,c,c,c,c,c,c] %}{{ d }}', "value of more than"),
    ("{% set x %}{% for i in range(1000) %}{% for j in range(10) %}" + "z" * 5000 + "{% endfor %}{% endfor %}"
     "{% endset %}{{ x|length }}", "loops run more than"),
    ("{% set x %}{% for i in range(100) %}" + "z" * 5000 + "{% endfor %}{% endset %}{{ x|length }}",
     "value of more than"),
    ('{{ "{0}{0}{0}{0}{0}{0}{0}{0}".format("x" * 99000) }}', "value of more than"),
    ('{{ ("%s" * 500) % ((("y" * 1000),) * 500) }}', "value of more than"),
    ('{{ "x"|wordwrap(1, wrapstring="y" * 90000) }}', "value of more than"),
    ('{{ [1]|batch(100000000, 0)|list }}', "value of more than"),
    ("{{ lipsum(100000) }}", "value of more than"),
    ('{% set s = "x" * 1000 %}{% for i in range(1000) %}{% for j in range(1000) %}{{ s|replace("x", "xx") }}'
     '{% endfor %}{% endfor %}', "rendering budget"),
    ("{% for i in range(1000) %}{% for j in range(1000) %}{{ i }}{% endfor %}{% endfor %}", "loops run more than"),
    ('{% set s = "ab " * 30000 %}{% for i in range(1000) %}{% for j in range(9) %}{{ s|wordcount }}{% endfor %}'
     "{% endfor %}", "rendering budget"),  # small values, much work: the deadline stops it
    ("{% set n = 10 ** 3 %}{% set n = n * n * n * n * n * n %}{% set n = n * n * n * n * n * n * n * n %}"
     "{% set n = n * n * n * n * n * n * n * n * n * n %}{% set n = n * n * n * n * n * n * n * n * n * n %}{{ n }}",
     "number too large"),
    ('{{ (1).to_bytes(1000000000, "big") }}', "not available"),
    ("{% block b %}x{% endblock %}{{ self.b() }}", "not available"),
])
def test_budget_refuses_while_building(ctx, payload, reason):
    with PeakMemory() as peak:
        with pytest.raises(rendering.TemplateProblem, match=reason):
            rendering.render("s", "", payload, CONTEXT, ["pay"])
        with pytest.raises(rendering.TemplateProblem):
            rendering.render("s", payload, "t", CONTEXT, ["pay"])  # and as HTML, autoescaped
    assert peak.grew_mb < PEAK_MB


def test_ordinary_templates_render_within_the_budget(ctx):
    r = rendering.render(
        "Stay {{ booking.reference ~ '!' }}",
        "<p>{% for k in ['a', 'b'] %}{{ k|upper }}{% endfor %} {{ '%s-%s' % (1, 2) }} {{ '{} x'.format(3) }}</p>",
        "{{ 'a,b'|replace(',', ';') }} {{ ['a', 'b']|join(', ') }} {{ 'x'.ljust(3) }}| {{ range(3)|sum }}",
        CONTEXT, ["pay"])
    assert r.subject == "Stay [booking.reference]!"
    assert r.html == "<p>AB 1-2 3 x</p>" and r.text == "a;b a, b x  | 3"


def test_a_template_is_checked_once_at_save(app, ctx, monkeypatch):
    from portal.operations import FieldError

    a = f.agency("alpha")
    renders = []
    original = rendering._render_part
    monkeypatch.setattr(rendering, "_render_part", lambda *args: renders.append(1) or original(*args))
    f.template(a, name="Any", subject="Hi {{ recipient.first_name }}", text="Hello")
    assert len(renders) == 2  # subject and text, once: not once per kind of object
    with pytest.raises(FieldError, match="not a merge field"):
        f.template(a, name="Odd", text="{{ nothing.here }}")
    assert db.session.scalar(select(func.count(Message.id))) == 0


def test_a_template_edit_that_would_break_a_solution_using_it_is_refused(app, ctx):
    from automation.operations import save_template
    from portal.operations import FieldError

    a = f.agency("alpha")
    tpl = f.template(a, name="Welcome", subject="Hi", text="Hello {{ recipient.first_name }}")
    f.solution(a, "appointment-confirmation", tpl=tpl, roles=("client",))
    with pytest.raises(FieldError, match="appointments"):
        save_template(tpl, a.id, {"name": "Welcome", "subject": "Hi", "text_body": "{{ booking.reference }}"})
    assert db.session.get(Agency, a.id) is not None
