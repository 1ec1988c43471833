"""Catalog's replica of identity's subjects and its repository use cases, on SQLite."""

from datetime import UTC, datetime

from catalog.models import Subject
from packyard.consumer import Outcome


def _subject(catalog, name):
    with catalog.uow() as uow:
        row = uow.session.get(Subject, name)
        return None if row is None else (row.kind, row.identity_id, row.deleted)


def test_a_registration_makes_a_subject_once(bus, catalog):
    data = {"user_id": "uid-alice", "username": "alice", "email": "alice@example.com", "full_name": "Alice",
            "registered": "2026-11-25T10:00:00.000Z"}
    assert bus.deliver("identity.user.registered", data, event_id="e-1") == Outcome.PROCESSED
    assert bus.deliver("identity.user.registered", data, event_id="e-1") == Outcome.DUPLICATE
    assert _subject(catalog, "alice") == ("user", "uid-alice", False)


def test_a_registered_user_creates_a_repository_and_its_event_is_written(api, alice):
    assert api.client.get("/repos/alice/main").json["name"] == "main"
    [created] = api.events("catalog.repo.created")
    assert (created["data"]["owner"], created["data"]["repo"]) == ("alice", "main")


def test_a_repository_is_dated_by_the_containers_clock(api, catalog):
    headers = api.user("bob")
    catalog.clock = lambda: datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    repo = api.create_repo("bob", "main", headers)
    assert repo["created"].startswith("2026-03-04T05:06:07")
