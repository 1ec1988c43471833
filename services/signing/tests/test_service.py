import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from packyard.migrations import upgrade
from signing.__main__ import ALEMBIC_INI, run
from signing.models import metadata


def _diff(url):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_migrations_match_the_models_on_postgresql(database_url):
    assert _diff(database_url) == []


def test_migrations_run_on_sqlite_and_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path}/signing.db"
    upgrade(ALEMBIC_INI, url)
    upgrade(ALEMBIC_INI, url)  # idempotent
    assert _diff(url) == []


def test_health_metrics_and_openapi_are_served(client):
    assert client.get("/livez").json == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"] == "ok"
    assert client.get("/metrics").status_code == 200
    spec = client.get("/openapi/signing.json").json
    assert spec["info"]["title"] == "Packyard signing"


def test_unknown_paths_answer_json_404(client):
    response = client.get("/nothing/here")
    assert response.status_code == 404 and response.json == {"message": "Not found"}


def test_a_missing_setting_stops_the_process_naming_it(monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("AMQP_URL", raising=False)
    try:
        run(["worker"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("the worker started without DATABASE_URL")
    err = capsys.readouterr().err
    assert "DATABASE_URL" in err and "AMQP_URL" in err
