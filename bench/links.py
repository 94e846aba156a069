"""Link GET and POST throughput under gunicorn + wrk, as ratios to a bare one-select Flask page.

Targets (issue 3): GET >= 0.6, POST >= 0.3.  Run: make bench  (or .venv/bin/python bench/links.py)"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import ROOT, gunicorn, scratch, wrk

POST_LINKS = int(os.environ.get("BENCH_POST_LINKS", "30000"))

SETUP = r'''
import sys
from decimal import Decimal
from datetime import date
from portal import create_app, db, links, migrate
from portal.agencies.operations import create_agency
from portal.bookings.models import Booking, BookingStatus, Channel, PaymentType
from portal.money.models import Charge, ChargeKind
from portal.links.models import ActionLink
from portal.people.operations import save_person
from portal.properties.operations import save_property, save_unit

app = create_app()
with app.app_context():
    migrate.upgrade()
    agency = create_agency(slug="bench", name="Bench Rentals", timezone="Europe/Madrid")
    db.scope(db.session, agency.id)
    guest = save_person(None, agency.id, {"name": "Ana Guest", "email": "ana@example.com", "roles": ["guest"]})
    unit = save_unit(None, agency.id, {"property_id": save_property(None, agency.id, {"name": "Seafront"}).id,
                                       "name": "1A", "bedrooms": 1, "capacity": 2})
    booking = Booking(agency_id=agency.id, reference="12345678", guest_id=guest.id, unit_id=unit.id,
                      arrival=date(2026, 12, 1), departure=date(2026, 12, 5), status=BookingStatus.CONFIRMED,
                      payment_type=PaymentType.CARD, channel=Channel.DIRECT, amount_due=Decimal(500))
    db.session.add(booking)
    db.session.flush()
    n = int(sys.argv[1])
    charges = [Charge(agency_id=agency.id, person_id=guest.id, booking_id=booking.id, kind=ChargeKind.FEE,
                      description=f"Fee {i}", amount=Decimal("25.00"), currency="EUR", due_date=date(2026, 12, 1))
               for i in range(n + 1)]
    db.session.add_all(charges)
    db.session.flush()
    made = [links.create("pay", c, guest) for c in charges]
    db.session.commit()
    print("GET", links.token(made[0]))
    for link in made[1:]:
        print("POST", links.token(link), links.form_token(link))
'''

LUA = r'''
local lines, n = {}, 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads - 1)
end
function init(args)
  local count = #threads
  local i = 0
  for line in io.lines("%s") do
    if i %% 2 == id then table.insert(lines, line) end
    i = i + 1
  end
end
function request()
  n = n + 1
  local line = lines[n]
  if line == nil then line = lines[#lines] end
  local path, body = line:match("([^ ]+) ([^ ]+)")
  return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
'''


def main() -> None:
    with scratch() as env:
        out = subprocess.run([sys.executable, "-c", SETUP, str(POST_LINKS)], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True).stdout.splitlines()
        get_token = out[0].split()[1]
        work = Path(tempfile.mkdtemp(prefix="portico-wrk-"))
        posts = work / "posts.txt"
        posts.write_text("".join(f"/l/{t} form_token={ft}\n" for _, t, ft in (line.split() for line in out[1:])))
        script = work / "post.lua"
        script.write_text(LUA % posts)

        with gunicorn("bench.bare:app", env) as base:
            baseline = wrk(base + "/")
        with gunicorn("wsgi:app", env) as base:
            get = wrk(f"{base}/l/{get_token}")
            post = wrk(base + "/", str(script))
        baseline_again = None
        with gunicorn("bench.bare:app", env) as base:
            baseline_again = wrk(base + "/")

    base_rps = (baseline["rps"] + baseline_again["rps"]) / 2
    ok_posts = post["requests"] - post["non_2xx"]
    post_rps = post["rps"] * ok_posts / max(post["requests"], 1)
    print(f"baseline (bare Flask, one PK select): {base_rps:8.0f} req/s (runs: {baseline['rps']:.0f}, "
          f"{baseline_again['rps']:.0f})")
    print(f"link GET  (verify, checks, audit, render): {get['rps']:8.0f} req/s  p99 {get['p99_ms']:.1f} ms  "
          f"non-2xx {get['non_2xx']}")
    print(f"link POST (verify, consume, pay, receipt): {post_rps:8.0f} successful req/s  "
          f"({ok_posts} paid of {post['requests']}; p99 {post['p99_ms']:.1f} ms)")
    print(f"ratio GET/baseline  = {get['rps'] / base_rps:.2f}   (target >= 0.6)")
    print(f"ratio POST/baseline = {post_rps / base_rps:.2f}   (target >= 0.3)")
    if ok_posts >= POST_LINKS:
        print("warning: every prepared link was used; raise BENCH_POST_LINKS for a fair POST figure")


if __name__ == "__main__":
    main()
