"""One use case in one transaction: committed when it returns, rolled back when it raises."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from packyard import transactions


def notes(engine, lib):
    with engine.connect() as conn:
        return conn.execute(sa.select(lib.effects.c.note).order_by(lib.effects.c.id)).scalars().all()


def test_a_change_commits_its_state_and_events_and_returns_the_answer(sqlite_engine, lib):
    def act(uow):
        uow.session.execute(lib.effects.insert().values(event_id="x", note="kept"))
        uow.publish(lib.THING_CREATED, {"name": "a"})
        return "answer"

    assert transactions.change(lib.uow_factory(sqlite_engine), act) == "answer"
    assert notes(sqlite_engine, lib) == ["kept"]
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(lib.outbox)).scalar_one() == 1


def test_a_change_that_raises_leaves_nothing(sqlite_engine, lib):
    def act(uow):
        uow.session.execute(lib.effects.insert().values(event_id="x", note="lost"))
        raise LookupError("refused")

    with pytest.raises(LookupError):
        transactions.change(lib.uow_factory(sqlite_engine), act)
    assert notes(sqlite_engine, lib) == []


def test_an_error_named_in_commit_on_keeps_the_work_then_propagates(sqlite_engine, lib):
    def act(uow):
        uow.session.execute(lib.effects.insert().values(event_id="x", note="failure recorded"))
        raise LookupError("refused")

    with pytest.raises(LookupError):
        transactions.change(lib.uow_factory(sqlite_engine), act, commit_on=(LookupError,))
    assert notes(sqlite_engine, lib) == ["failure recorded"]


def test_an_error_named_in_retry_on_runs_the_change_once_more(sqlite_engine, lib):
    calls = []

    def act(uow):
        calls.append(1)
        uow.session.execute(lib.effects.insert().values(event_id="x", note=f"attempt {len(calls)}"))
        if len(calls) == 1:
            raise KeyError("lost a race")
        return len(calls)

    assert transactions.change(lib.uow_factory(sqlite_engine), act, retry_on=(KeyError,)) == 2
    assert notes(sqlite_engine, lib) == ["attempt 2"]


def test_a_second_retried_error_propagates(sqlite_engine, lib):
    def act(uow):
        raise KeyError("lost again")

    with pytest.raises(KeyError):
        transactions.change(lib.uow_factory(sqlite_engine), act, retry_on=(KeyError,))


def test_a_read_never_commits(sqlite_engine, lib):
    def query(session):
        session.execute(lib.effects.insert().values(event_id="x", note="not kept"))
        return "seen"

    assert transactions.read(lib.uow_factory(sqlite_engine), query) == "seen"
    assert notes(sqlite_engine, lib) == []
