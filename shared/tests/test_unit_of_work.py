import marshmallow as ma
import pytest
import sqlalchemy as sa

from packyard.events import parse_envelope


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_leaving_without_commit_rolls_back_state_and_events(engine, lib):
    with lib.uow_factory(engine)() as uow:
        uow.session.execute(lib.effects.insert().values(event_id="x", note="n"))
        uow.publish(lib.THING_CREATED, {"name": "a"})
    assert count(engine, lib.effects) == 0
    assert count(engine, lib.outbox) == 0


def test_commit_writes_state_and_its_event_together(engine, lib):
    with lib.uow_factory(engine)() as uow:
        uow.session.execute(lib.effects.insert().values(event_id="x", note="n"))
        event = uow.publish(lib.THING_CREATED, {"name": "a", "size": 3}, subject="a")
        uow.commit()
    assert count(engine, lib.effects) == 1
    with engine.connect() as conn:
        row = conn.execute(sa.select(lib.outbox)).one()
    assert row.event_id == event.id and row.type == "testsvc.thing.created" and row.sent_at is None
    parsed = parse_envelope(row.body)
    assert parsed.specversion == "1.0" and parsed.source == "/testsvc" and parsed.subject == "a"
    assert parsed.data == {"name": "a", "size": 3}
    assert parsed.traceparent and parsed.traceparent.startswith("00-")


def test_invalid_event_data_is_refused_before_anything_is_written(engine, lib):
    with lib.uow_factory(engine)() as uow:
        with pytest.raises(ma.ValidationError):
            uow.publish(lib.THING_CREATED, {"size": "not a number"})
        uow.commit()
    assert count(engine, lib.outbox) == 0


def test_exception_inside_the_block_rolls_back(engine, lib):
    with pytest.raises(RuntimeError):
        with lib.uow_factory(engine)() as uow:
            uow.session.execute(lib.effects.insert().values(event_id="x", note="n"))
            uow.publish(lib.THING_CREATED, {"name": "a"})
            raise RuntimeError("boom")
    assert count(engine, lib.effects) == 0 and count(engine, lib.outbox) == 0
