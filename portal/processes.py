"""What keeps Portico's long-running processes (`portico worker`, `portico cron`) going: RQ's
own engines run inside a reconnect loop with backoff, and Redis's settings are checked at start."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable

import redis
import sqlalchemy.exc
from redis.backoff import ExponentialBackoff
from rq.cron import CronScheduler as RQCronScheduler
from rq.exceptions import StopRequested

from portal.errors import first_line

# Errors that say "a dependency is away right now", not "this code is wrong": the process waits
# and tries again instead of exiting (a bug still ends it, for the supervisor to restart).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,  # includes BusyLoadingError: Redis is still loading its data
    redis.exceptions.TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    OSError,
)
# A ping to a Redis that is away costs nothing: retry often enough that work resumes within ~2 s of its return.
BACKOFF = ExponentialBackoff(cap=2.0, base=0.5)  # 0.5 s, 1 s, 2 s, 2 s ... between tries
HEALTHY_AFTER = 30.0  # a run that lasted this long was not a failed reconnect: start the backoff over


def logger(name: str) -> logging.Logger:
    """A logger that prints to stderr with a time stamp, whether or not logging was configured."""
    log = logging.getLogger(f"portico.{name}")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def keep_running(run: Callable[[], bool], log: logging.Logger, backoff: ExponentialBackoff = BACKOFF) -> None:
    """Call `run()` until it returns True (it stopped because it was asked to). When it returns
    False or raises a connection error, log it, wait (backing off) and call it again. SIGTERM or
    SIGINT while waiting ends the loop at once."""
    failures = 0
    while True:
        started = time.monotonic()
        try:
            try:
                if run():
                    return
                reason = "stopped unexpectedly"
            except CONNECTION_ERRORS as exc:
                reason = f"lost a dependency: {type(exc).__name__}: {first_line(exc)}"
            if time.monotonic() - started >= HEALTHY_AFTER:
                failures = 0
            delay = backoff.compute(failures)
            failures += 1
            log.warning("%s; trying again in %.1f s (attempt %d)", reason, delay, failures)
            if not _sleep_unless_stopped(delay):
                log.info("stopped while waiting to reconnect")
                return
        except StopRequested:  # the engine's own signal handler, still installed, asked to stop
            return


class CronScheduler(RQCronScheduler):
    """RQ's CronScheduler, telling a stop it was asked for from one caused by a lost Redis."""

    stopping = False

    def _request_stop(self, signum, frame):
        self.stopping = True
        super()._request_stop(signum, frame)


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop


def _sleep_unless_stopped(seconds: float) -> bool:
    """Sleep; False if SIGTERM/SIGINT came meanwhile (the engines install their own handlers again)."""
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        time.sleep(seconds)
        return True
    except (_Stop, StopRequested, KeyboardInterrupt):
        return False
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def redis_warnings(connection: redis.Redis) -> list[str]:
    """What in this Redis's settings would lose queued work, each with its fix (empty when all is well)."""
    try:
        config = connection.config_get("appendonly", "save", "maxmemory-policy")
    except redis.exceptions.ResponseError as exc:  # managed Redis often refuses CONFIG
        return [f"could not read Redis's settings ({first_line(exc)}): make sure persistence is on "
                "(appendonly yes, or a save rule) and maxmemory-policy is noeviction"]
    found = []
    if config.get("appendonly") != "yes" and not config.get("save", "").strip():
        found.append("Redis persistence is off (appendonly no, save \"\"): a Redis restart loses every queued "
                     "job and the scheduler's state. Fix: set `appendonly yes` (or a save rule such as "
                     "`save 60 1`) in redis.conf, or `redis-cli CONFIG SET appendonly yes` and CONFIG REWRITE.")
    policy = config.get("maxmemory-policy", "noeviction")
    if policy != "noeviction":
        found.append(f"Redis maxmemory-policy is {policy}: when Redis fills up it silently drops keys, queued "
                     "jobs among them. Fix: set `maxmemory-policy noeviction` in redis.conf (a full Redis "
                     "then refuses new work, which Portico logs, and drops nothing already queued).")
    return found


def warn_about_redis(connection: redis.Redis, log: logging.Logger) -> None:
    """Log a warning for each risky Redis setting (never refuses to start); connection errors
    propagate, so that `keep_running` waits for Redis and checks again once it answers."""
    for warning in redis_warnings(connection):
        log.warning("WARNING: %s", warning)
