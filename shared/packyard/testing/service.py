"""What every service's test suite builds the same way, so its ``conftest.py`` says only what differs.

* :func:`postgres_database` — the fixture of a PostgreSQL database of this run, migrated to the
  service's head (one per test);
* :func:`containers` — the body of a ``make_<service>`` fixture: containers built for one test,
  closed after it;
* :func:`deliverer` — hand an event to a container's consumers as the worker would, without a
  broker, and get the outcome;
* :func:`running_worker` — the container's consumers (and, if asked, its worker loops) running
  on threads for the length of a block, against a real broker;
* :func:`service_fixtures` — the ``make_<service>``, ``<service>``, ``client``, ``deliver`` and
  ``running_worker`` fixtures of a suite, from the function that builds its container.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from packyard.events import CloudEvent
from packyard.migrations import upgrade
from packyard.service import ServiceContainer
from packyard.testing import running

__all__ = ["containers", "deliverer", "postgres_database", "running_worker", "service_fixtures"]

C = TypeVar("C", bound=ServiceContainer)

_numbers = itertools.count(1)


def postgres_database(alembic_ini: Path, prefix: str, *, name: str = "database_url") -> Any:
    """A fixture ``name``: the URL of a new PostgreSQL database migrated to ``alembic_ini``'s head."""

    @pytest.fixture(name=name)
    def database(create_database: Callable[[str], str]) -> str:
        url = create_database(f"{prefix}{next(_numbers)}")
        upgrade(alembic_ini, url)
        return url

    return database


def containers(build: Callable[..., C]) -> Iterator[Callable[..., C]]:
    """``yield from containers(build)`` in a fixture: ``make(**kwargs)`` calls ``build``; every
    container made is closed when the test ends."""
    made: list[C] = []

    def make(*args: Any, **kwargs: Any) -> C:
        container = build(*args, **kwargs)
        made.append(container)
        return container

    yield make
    for container in made:
        container.close()


def deliverer(container: ServiceContainer, queue: str | None = None) -> Callable[[CloudEvent], str]:
    """``deliver(event)`` → the consumer's outcome, on ``queue`` or else the queue that takes the event's type."""
    runner = container.consumer()

    def deliver(event: CloudEvent) -> str:
        target = queue or next((q.name for q in container.consumer_queues if q.handler_for(event.type)), None)
        if target is None:
            raise AssertionError(f"no {container.platform.service} queue takes {event.type}")
        return runner.process(target, event.to_json().encode())

    return deliver


@contextlib.contextmanager
def running_worker(container: ServiceContainer, *, loops: bool = False) -> Iterator[ServiceContainer]:
    """The container's consumers running on a thread (its worker loops too when ``loops``)."""
    with contextlib.ExitStack() as stack:
        if loops:
            for loop in container.worker_loops():
                stack.enter_context(running(loop))
        stack.enter_context(running(container.consumer()))
        yield container


def service_fixtures(service: str, build: Callable[..., Any], create_app: Callable[[Any], Any], *,
                     queue: str | None = None) -> tuple[Any, Any, Any, Any, Any]:
    """``make_social, social, client, deliver, running_worker = service_fixtures("social", build, create_app)``.

    ``make_<service>(**kwargs)`` is ``build(database_url, minter, **kwargs)`` (the suite's
    ``database_url`` and ``minter`` fixtures), each container closed after the test;
    ``<service>`` is one made with the defaults; ``client`` a test client of its app;
    ``deliver(event)`` hands an event to its consumers without a broker (:func:`deliverer`, on
    ``queue`` when given); ``running_worker`` runs the consumers of a container made with
    ``amqp_url`` a RabbitMQ vhost of the test's own, and yields that URL.
    """

    @pytest.fixture(name=f"make_{service}")
    def make(database_url: str, minter: Any) -> Iterator[Callable[..., Any]]:
        yield from containers(lambda **kwargs: build(database_url, minter, **kwargs))

    @pytest.fixture(name=service)
    def container(request: pytest.FixtureRequest) -> Any:
        return request.getfixturevalue(f"make_{service}")()

    @pytest.fixture(name="client")
    def client(request: pytest.FixtureRequest) -> Any:
        return create_app(request.getfixturevalue(service)).test_client()

    @pytest.fixture(name="deliver")
    def deliver(request: pytest.FixtureRequest) -> Callable[[CloudEvent], str]:
        return deliverer(request.getfixturevalue(service), queue)

    @pytest.fixture(name="running_worker")
    def worker(request: pytest.FixtureRequest, fresh_amqp_url: str) -> Iterator[str]:
        with running_worker(request.getfixturevalue(f"make_{service}")(amqp_url=fresh_amqp_url)):
            yield fresh_amqp_url

    return make, container, client, deliver, worker
