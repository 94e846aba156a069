"""What a hostile or broken feed cannot make the sync do: expand a runaway rule, hold a worker by dripping bytes,
reach Portico's neighbours (private, shared and metadata addresses), or redirect to another scheme."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal import db
from portal.integrations import ical, sync
from portal.integrations.models import Feed, IntegrationKind, SyncError
from portal.integrations.stays import BadRecord, Located
from tests import factories as f
from tests.integrations.conftest import DRIP
from tests.integrations.world import integration

TODAY = date(2026, 12, 1)
MADRID = ZoneInfo("Europe/Madrid")


def _feed(rule: str, start: str = "20261201") -> bytes:
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//EN\r\nBEGIN:VEVENT\r\nUID:runaway@example.com\r\n"
            f"DTSTAMP:20261130T080000Z\r\nDTSTART:{start}T100000Z\r\nDTEND:{start}T110000Z\r\n"
            f"RRULE:{rule}\r\nSUMMARY:Owner block\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()


def _read(body: bytes) -> tuple[list[Located], list[BadRecord]]:
    found = list(ical.stays_in(ical.read(body), 1, MADRID, TODAY))
    return [x for x in found if isinstance(x, Located)], [x for x in found if isinstance(x, BadRecord)]


@pytest.mark.parametrize("rule", ["FREQ=MINUTELY;COUNT=5000", "FREQ=SECONDLY", "FREQ=HOURLY;COUNT=48",
                                  "FREQ=DAILY;COUNT=10;BYHOUR=1,2,3", "FREQ=WEEKLY;COUNT=3;BYMINUTE=0,30"])
def test_rules_more_often_than_daily_are_refused_not_expanded(rule):
    taken, refused = _read(_feed(rule))
    assert taken == []
    assert len(refused) == 1 and "more often than daily" in refused[0].message
    assert refused[0].external_id == "runaway@example.com"  # so its earlier stays are not cancelled as missing


def test_a_daily_rule_is_expanded_lazily_up_to_the_cap(monkeypatch):
    taken, refused = _read(_feed("FREQ=DAILY;COUNT=30"))
    assert len(taken) == 30 and refused == []
    monkeypatch.setattr(ical, "MAX_OCCURRENCES", 10)
    taken, refused = _read(_feed("FREQ=DAILY"))  # endless
    assert [t.item.arrival.day for t in taken] == list(range(1, 11))
    assert len(refused) == 1 and "more than 10 times" in refused[0].message


def test_an_endless_daily_rule_stops_at_the_horizon():
    taken, refused = _read(_feed("FREQ=WEEKLY"))
    arrivals = [t.item.arrival for t in taken]
    assert arrivals[0] == TODAY and max(arrivals) <= TODAY + ical.HORIZON
    assert max(arrivals) > TODAY + ical.HORIZON - ical.timedelta(days=7) and refused == []


def test_a_feed_dripping_a_byte_at_a_time_is_given_up_at_the_deadline(app, ctx, feeds):
    with pytest.raises(ical.FeedError, match="did not arrive within 2 seconds"):
        ical.fetch(feeds.url("drip.ics"))
    assert feeds.drip_done.wait(60)
    assert feeds.dripped < DRIP  # the client hung up long before the drip ended


@pytest.mark.parametrize("address", ["100.100.100.200", "100.64.0.1", "fec0::1", "::ffff:127.0.0.1",
                                     "::ffff:10.1.2.3", "::ffff:169.254.169.254", "169.254.169.254", "10.0.0.1",
                                     "127.0.0.1", "::1", "fd00::1", "0.0.0.0", "224.0.0.1"])
def test_addresses_off_the_public_internet_are_not_public(address):
    assert ical._not_public(ical.ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_are(address):
    assert not ical._not_public(ical.ipaddress.ip_address(address))


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_private_address_is_refused_before_connecting_even_over_tls(app, ctx, monkeypatch, scheme):
    monkeypatch.setitem(app.config, "ICAL_PRIVATE_ADDRESSES", False)
    listener = ical.socket.create_server(("127.0.0.1", 0))
    try:
        port = listener.getsockname()[1]
        with pytest.raises(ical.FeedError, match="private or local address"):
            ical.fetch(f"{scheme}://localhost:{port}/calendar.ics")
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):  # no connection was ever opened to it
            listener.accept()
    finally:
        listener.close()


def test_a_redirect_to_another_scheme_is_refused(app, ctx, feeds):
    for target in ("file:///etc/passwd", "ftp://example.com/feed.ics", "gopher://example.com/"):
        with pytest.raises(ical.FeedError, match="not http or https"):
            ical.fetch(feeds.url(f"redirect-to/{target}"))


def test_a_failed_feeds_error_shows_its_address_without_its_secrets(app, ctx, feeds):
    a = f.agency("alpha")
    place = f.prop(a, "Old Town")
    source = integration(a, "Channels", IntegrationKind.ICAL)
    secret_url = feeds.url("error.ics?s=tok3n-s3cret#frag-s3cret").replace("http://", "http://us3r:pa55@")
    for name, url in (("1A", feeds.url("error.ics?token=tok3n-s3cret#frag-s3cret")), ("1B", secret_url)):
        db.session.add(Feed(agency_id=a.id, integration_id=source.id, unit_id=f.unit(a, place, name).id, url=url))
    db.session.commit()
    run_id = sync.sync_integration(source.id, "manual")
    db.session.commit()
    excerpts = db.session.scalars(select(SyncError.excerpt).where(SyncError.run_id == run_id)).all()
    assert len(excerpts) == 2
    port = feeds.httpd.server_address[1]
    assert excerpts == [f"http://127.0.0.1:{port}/error.ics"] * 2
