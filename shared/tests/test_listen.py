"""The outbox doorbell: how a commit wakes the relay without LISTEN/NOTIFY."""

from __future__ import annotations

import threading

import pytest

from packyard import listen


def test_a_ring_wakes_the_doorbell_of_the_same_database_and_table_only(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    with listen.Doorbell.bind(url) as bell:
        assert not bell.wait(0.05)
        assert listen.ring(url)
        assert bell.wait(5)
        assert not listen.ring(f"sqlite:///{tmp_path}/b.db")  # another database: nobody listens
        assert not listen.ring(url, "other_outbox")
        assert not bell.wait(0.05)


def test_the_address_follows_the_file_not_the_spelling_of_its_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert listen.doorbell_address("sqlite:///a.db") == listen.doorbell_address(f"sqlite:///{tmp_path}/a.db")
    assert listen.doorbell_address("postgresql+psycopg://u:secret@db:5432/x") == \
        listen.doorbell_address("postgresql+psycopg://other@db:5432/x")


def test_only_one_relay_holds_a_doorbell_and_rings_never_fail(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    first = listen.Doorbell.bind(url)
    try:
        assert listen.Doorbell.bind(url) is None
        for _ in range(10_000):  # far more than the socket queues: extra rings are dropped
            listen.ring(url)
        assert first.wait(1)
    finally:
        first.close()
    assert not listen.ring(url)


@pytest.mark.parametrize("db", ["sqlite_engine", "pg_engine"])
def test_committing_a_unit_of_work_with_events_rings_its_outbox_doorbell(request, db, lib):
    sqlite_engine = request.getfixturevalue(db)
    with listen.Doorbell.bind(sqlite_engine.url, lib.outbox.name) as bell:
        with lib.uow_factory(sqlite_engine)() as uow:  # no events: no ring
            uow.commit()
        assert not bell.wait(0.05)
        woke = threading.Event()
        waiter = threading.Thread(target=lambda: bell.wait(5) and woke.set())
        waiter.start()
        lib.publish_things(sqlite_engine, 1)
        waiter.join(6)
        assert woke.is_set()
