"""The command line every service shares: ``python -m <service> <command>``.

Standard commands:

``migrate``
    apply the service's Alembic migrations, then declare its RabbitMQ topology (its
    events exchange, its consumer queues, retry and dead-letter queues) so that nothing
    published afterwards can miss a queue. Run once per deployment, never per replica.
``worker``
    run the service's consumers (``--with-relay`` also runs the relay on a thread), plus
    the loops the container's ``worker_loops()`` returns, with ``/livez``, ``/readyz`` and
    ``/metrics`` on ``HEALTH_PORT``.
``relay``
    run the outbox relay alone, with its health endpoints on ``HEALTH_PORT``.
``wait-for-migrations``
    wait until the database holds this code's schema (or a newer one), then exit 0; exit 1
    after ``--timeout`` seconds. The init container of every replica on Kubernetes, so new
    code never serves against an old schema while the migration Job runs.

A service adds its own commands (``identity create-admin``) by passing ``commands``. Its
``__main__`` is two lines: ``run = entry_point("social", bootstrap=bootstrap, alembic_ini=...)``
and ``sys.exit(run())``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pika

from packyard import amqp
from packyard.config import exit_on_config_error
from packyard.consumer import ConsumerQueue, ConsumerRunner
from packyard.logs import configure_logging
from packyard.migrations import upgrade, wait_until_migrated
from packyard.process import Loop, run_loops, serve_health
from packyard.service import BaseSettings, Platform
from packyard.web import ReadinessCheck

__all__ = ["Container", "alembic_ini", "entry_point", "main"]

log = logging.getLogger(__name__)


@runtime_checkable
class Container(Protocol):
    """What a service's ``bootstrap()`` returns, as far as the shared commands care.

    :class:`packyard.service.ServiceContainer` implements all of it; a service overrides
    ``worker_loops`` and ``after_migrate`` when it has loops or post-migration steps.
    """

    @property
    def settings(self) -> BaseSettings: ...

    @property
    def platform(self) -> Platform: ...

    @property
    def consumer_queues(self) -> Sequence[ConsumerQueue]: ...

    def consumer(self) -> ConsumerRunner: ...

    def worker_loops(self) -> list[Loop]: ...

    def after_migrate(self) -> None: ...


Command = Callable[[Any, argparse.Namespace], int | None]
# A service's own commands: name -> (help, command, configure its argument parser or None).
Commands = Mapping[str, tuple[str, Command, Callable[[argparse.ArgumentParser], None] | None]]


class Run(Protocol):
    """What :func:`entry_point` returns: ``run()`` parses ``sys.argv``, ``run([...])`` the arguments given."""

    def __call__(self, argv: Sequence[str] | None = None) -> int: ...


def _migrate(container: Container, args: argparse.Namespace, ini_path: Path) -> int:
    platform = container.platform
    upgrade(ini_path, platform.settings.database_url)
    log.info("database migrated")
    container.after_migrate()  # e.g. identity creates its first token signing key
    if not args.no_broker:
        connection = pika.BlockingConnection(amqp.connection_parameters(platform.settings.amqp_url,
                                                                        client_name=f"{platform.service}-migrate"))
        try:
            channel = connection.channel()
            amqp.declare_events_exchange(channel, platform.service)
            queues = list(container.consumer_queues)
            if queues:
                amqp.declare_consumer_topology(channel, platform.service, [q.spec for q in queues],
                                               platform.retry_policy)
        finally:
            connection.close()
        log.info("broker topology declared")
    return 0


def _worker(container: Container, args: argparse.Namespace) -> int:
    platform = container.platform
    runner = container.consumer()
    loops: list[Any] = [runner]
    checks = [ReadinessCheck("database", platform.check_database),
              ReadinessCheck("broker", lambda: runner.connected.is_set())]
    if args.with_relay:
        relay = platform.relay()
        loops.append(relay)
        checks.append(ReadinessCheck("relay", lambda: relay.healthy.is_set()))
    loops.extend(container.worker_loops())  # e.g. the notifier's email and webhook senders
    serve_health(platform.settings.health_port, checks)
    run_loops(loops)
    return 0


def _relay(container: Container, _args: argparse.Namespace) -> int:
    platform = container.platform
    relay = platform.relay()
    serve_health(platform.settings.health_port,
                 [ReadinessCheck("database", platform.check_database),
                  ReadinessCheck("broker", lambda: relay.healthy.is_set())])
    run_loops([relay])
    return 0


def _wait_for_migrations(container: Container, args: argparse.Namespace, ini_path: Path) -> int:
    if wait_until_migrated(ini_path, container.platform.settings.database_url, timeout=args.timeout):
        log.info("database migrated")
        return 0
    print(f"the database is not migrated to this release after {args.timeout:g} s: "
          f"run python -m {container.platform.service} migrate", file=sys.stderr)
    return 1


def main(
    service: str,
    *,
    bootstrap: Callable[[], Container],
    alembic_ini: Path,
    commands: Commands | None = None,
    argv: Sequence[str] | None = None,
) -> int:
    """Parse ``argv`` and run the command; settings errors stop with one line (exit 2)."""
    parser = argparse.ArgumentParser(prog=f"python -m {service}")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser("migrate", help="apply migrations and declare the broker topology")
    migrate.add_argument("--no-broker", action="store_true", help="only migrate the database")
    worker = sub.add_parser("worker", help="run the event consumers")
    worker.add_argument("--with-relay", action="store_true", help="also run the outbox relay on a thread")
    sub.add_parser("relay", help="run the outbox relay")
    wait = sub.add_parser("wait-for-migrations",
                          help="wait until the database is migrated to this release (init containers)")
    wait.add_argument("--timeout", type=float, default=600.0, help="seconds to wait before failing (default 600)")
    extra = commands or {}
    for name, (help_text, _fn, configure) in extra.items():
        p = sub.add_parser(name, help=help_text)
        if configure:
            configure(p)
    args = parser.parse_args(argv)

    container = exit_on_config_error(bootstrap)
    configure_logging(service, container.platform.settings.log_level)
    if args.command == "migrate":
        return _migrate(container, args, alembic_ini)
    if args.command == "worker":
        return _worker(container, args)
    if args.command == "relay":
        return _relay(container, args)
    if args.command == "wait-for-migrations":
        return _wait_for_migrations(container, args, alembic_ini)
    _help, fn, _configure = extra[args.command]
    return int(fn(container, args) or 0)


def alembic_ini(package_file: str) -> Path:
    """The ``alembic.ini`` of the service whose package holds ``package_file`` (pass ``__file__``)."""
    return Path(package_file).resolve().parent.parent / "alembic.ini"


def entry_point(
    service: str,
    *,
    bootstrap: Callable[[], Container],
    alembic_ini: Path,
    commands: Commands | None = None,
) -> Run:
    """``run(argv=None)``: :func:`main` for ``service`` (``python -m <service>`` and its entry modules)."""

    def run(argv: Sequence[str] | None = None) -> int:
        return main(service, bootstrap=bootstrap, alembic_ini=alembic_ini, commands=commands, argv=argv)

    return run


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run a service's command instead: python -m <service> <command>")
