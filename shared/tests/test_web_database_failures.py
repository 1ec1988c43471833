"""A database that cannot answer is a retryable 503 (with Retry-After), a lost race a 409 — never a 500.

Every service's API is built by :func:`packyard.web.create_api`, so these answers hold for all of them.
The failures are real: a port where no database listens, a PostgreSQL backend terminated in the middle
of a request (what a restart does), a serialization failure and a row deleted under an ORM update.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session, registry

from packyard.db import make_engine
from packyard.testing import free_port
from packyard.web import create_api

from .conftest import effects


class Effect:
    pass


registry().map_imperatively(Effect, effects)


def make_app(engine: sa.Engine):
    app, api = create_api(__name__, service="demo")
    blp = Blueprint("db", __name__)

    @blp.route("/count")
    class Count(MethodView):
        def get(self):
            with engine.connect() as conn:
                return {"count": conn.execute(sa.select(sa.func.count()).select_from(effects)).scalar_one()}

    @blp.route("/restart")
    class Restart(MethodView):
        def get(self):
            """The database ends this very connection mid-transaction, as a restart or failover does."""
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
                return {"count": conn.execute(sa.select(sa.func.count()).select_from(effects)).scalar_one()}

    @blp.route("/race")
    class Race(MethodView):
        def post(self):
            """A repeatable-read transaction updating a row another one changed since it began."""
            with engine.connect() as first:
                first.execution_options(isolation_level="REPEATABLE READ")
                with first.begin():
                    first.execute(sa.select(effects.c.note).where(effects.c.id == 1)).scalar_one()
                    with engine.begin() as second:
                        second.execute(effects.update().where(effects.c.id == 1).values(note="second"))
                    first.execute(effects.update().where(effects.c.id == 1).values(note="first"))
            return {"message": "success"}

    @blp.route("/stale")
    class Stale(MethodView):
        def patch(self):
            """An ORM update of a row a concurrent transaction deleted (SQLAlchemy's StaleDataError)."""
            with Session(engine) as session, session.begin():
                effect = session.get(Effect, 1)
                with engine.begin() as other:
                    other.execute(effects.delete().where(effects.c.id == 1))
                effect.note = "changed"
            return {"message": "success"}

    @blp.route("/bug")
    class Bug(MethodView):
        def get(self):
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT * FROM no_such_table"))

    api.register_blueprint(blp)
    return app


def _assert_unavailable(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json() == {"message": "The service's database is unavailable at the moment; retry shortly"}
    assert response.headers["Retry-After"] == "5"


def test_a_database_refusing_connections_answers_503_with_retry_after():
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing_listens_here")
    try:
        _assert_unavailable(make_app(engine).test_client().get("/count"))
    finally:
        engine.dispose()


@pytest.fixture
def pg_app(pg_engine):
    with pg_engine.begin() as conn:
        conn.execute(effects.insert().values(id=1, event_id="e1", note="start"))
    return make_app(pg_engine)


def test_a_connection_the_database_ends_mid_request_answers_503_and_the_next_request_succeeds(pg_app):
    client = pg_app.test_client()
    _assert_unavailable(client.get("/restart"))
    assert client.get("/count").get_json() == {"count": 1}  # the pool replaced the broken connection


def test_a_transaction_that_lost_a_race_answers_409(pg_app):
    response = pg_app.test_client().post("/race")
    assert response.status_code == 409, response.get_data(as_text=True)
    assert "concurrent request" in response.get_json()["message"]


def test_an_update_of_a_row_deleted_meanwhile_answers_409(pg_app):
    response = pg_app.test_client().patch("/stale")
    assert response.status_code == 409, response.get_data(as_text=True)
    assert "concurrent request" in response.get_json()["message"]


def test_a_defect_in_a_statement_still_answers_500(pg_app):
    response = pg_app.test_client().get("/bug")
    assert response.status_code == 500
    assert response.get_json() == {"message": "Internal server error"}
