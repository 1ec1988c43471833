"""The service skeleton: settings, health, OpenAPI, migrations, commands and the subjects replica."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import marshmallow
import pika
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from catalog.__main__ import ALEMBIC_INI
from catalog.bootstrap import bootstrap
from catalog.config import load
from catalog.models import Subject, metadata
from packyard import amqp
from packyard.config import ConfigError
from packyard.consumer import Outcome
from packyard.db import make_engine
from packyard.events import CONTENT_TYPE, CloudEvent
from packyard.migrations import upgrade
from packyard.testing import wait_for

BASE_ENV = {"DATABASE_URL": "sqlite:///x.db", "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
            "JWKS_URL": "http://identity:8101/.well-known/jwks.json",
            "MAIL_TOKEN_KEY": "cGFja3lhcmQtdGVzdC1vbmx5LW1haWwtdG9rZW4tayE=",
            "SERVICE_TOKEN": "catalog-test-service-token-0123456789abcdef"}


def test_settings_name_the_missing_variable(monkeypatch):
    for name in BASE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("AMQP_URL", "amqp://localhost/")
    with pytest.raises(ConfigError, match="JWKS_URL"):
        load()


def test_settings_refuse_an_unknown_download_mode(monkeypatch):
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOWNLOAD_MODE", "stream")
    with pytest.raises(ConfigError, match="DOWNLOAD_MODE"):
        load()
    monkeypatch.setenv("DOWNLOAD_MODE", "sendfile")
    assert load().download_mode == "sendfile"


def test_health_metrics_and_openapi_answer(client):
    assert client.get("/livez").json == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"] == "ok"
    metrics = client.get("/metrics").data
    for name in (b"packyard_http_requests_total", b"packyard_catalog_downloads_total",
                 b"packyard_catalog_uploaded_bytes_total", b"packyard_downloads_ingested_total"):
        assert name in metrics
    spec = client.get("/openapi/catalog.json")
    assert spec.status_code == 200 and spec.json["info"]["title"] == "Packyard catalog"
    paths = spec.json["paths"]
    assert {"/repos/{subject}/{repo}", "/packages/{subject}/{repo}/{package}", "/content/{subject}/{repo}/{rest}",
            "/dl/{subject}/{repo}/{file_path}", "/search/file", "/licenses/oss_licenses",
            "/repository/{subject}/{repo}/links/{source_subject}/{source_repo}/{source_package}",
            "/packages/{subject}/{repo}/{package}/inclusion_requests", "/inclusion_requests/{request_id}/approve",
            "/packages/{subject}/{repo}/{package}/claims", "/claims/{claim_id}/decide", "/me/claims",
            "/webhooks/{subject}/{repo}/{package}", "/webhooks/{subject}/{repo}/{package}/{version}",
            "/packages/{subject}/{repo}/{package}/stats/total_downloads",
            "/packages/{subject}/{repo}/{package}/versions/{version}/stats/country_downloads", "/stats/popular",
            "/internal/downloads/decision"} <= set(paths)
    assert "$ref" in paths["/packages/{subject}/{repo}/{package}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]


def test_unknown_paths_answer_json_404(client):
    response = client.get("/no/such/thing")
    assert response.status_code == 404 and response.json == {"message": "Not found"}


def _diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_migrations_match_the_models_on_postgresql(create_database):
    url = create_database("catalog_migrations")
    upgrade(ALEMBIC_INI, url)
    engine = make_engine(url)
    try:
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_migrations_run_on_sqlite_and_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path}/catalog.db"
    upgrade(ALEMBIC_INI, url)
    upgrade(ALEMBIC_INI, url)  # idempotent
    engine = make_engine(url)
    try:
        assert _diff(engine) == []
    finally:
        engine.dispose()


def _run(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "catalog", *args], env={**os.environ, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_migrate_command_migrates_and_declares_the_queues(tmp_path, fresh_amqp_url):
    env = {**BASE_ENV, "DATABASE_URL": f"sqlite:///{tmp_path}/catalog.db", "AMQP_URL": fresh_amqp_url}
    result = _run(["migrate"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    engine = make_engine(env["DATABASE_URL"])
    try:
        assert {"subjects", "outbox", "inbox"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    connection = pika.BlockingConnection(pika.URLParameters(fresh_amqp_url))
    try:
        channel = connection.channel()
        channel.queue_declare("catalog.identity", passive=True)  # raises when missing
        channel.exchange_declare("catalog.events", exchange_type="topic", passive=True)
    finally:
        connection.close()


def test_gc_blobs_command_removes_only_old_unreferenced_blobs(tmp_path):
    env = {**BASE_ENV, "DATABASE_URL": f"sqlite:///{tmp_path}/catalog.db", "BLOB_STORAGE_PATH": str(tmp_path / "b")}
    upgrade(ALEMBIC_INI, env["DATABASE_URL"])
    orphan = tmp_path / "b" / "ab" / "cd" / ("abcd" + "0" * 60)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"nobody refers to me")
    fresh = orphan.with_name("abcd" + "1" * 60)
    fresh.write_bytes(b"just uploaded")
    os.utime(orphan, (0, 0))
    result = _run(["gc-blobs", "--grace", "3600"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "removed 1 unreferenced blobs" in result.stdout
    assert not orphan.exists() and fresh.exists()


def test_a_process_without_its_settings_stops_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in BASE_ENV}
    result = subprocess.run([sys.executable, "-m", "catalog", "worker"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "JWKS_URL" in result.stderr


# --- the subjects replica -------------------------------------------------------------------

def subject(catalog, name):
    with catalog.uow() as uow:
        row = uow.session.get(Subject, name)
        return None if row is None else (row.kind, row.identity_id, row.deleted)


def registered(user_id="u-1", username="alice"):
    return {"user_id": user_id, "username": username, "email": f"{username}@example.com",
            "full_name": "Alice A.", "registered": "2026-11-25T10:00:00.000Z"}


def test_a_registered_user_becomes_a_subject(bus, catalog):
    assert bus.deliver("identity.user.registered", registered()) == Outcome.PROCESSED
    assert subject(catalog, "alice") == ("user", "u-1", False)


def test_the_same_registration_delivered_twice_has_one_effect(bus, catalog):
    event_id = "0b5a8d0e-0000-4000-8000-000000000001"
    assert bus.deliver("identity.user.registered", registered(), event_id=event_id) == Outcome.PROCESSED
    assert bus.deliver("identity.user.registered", registered(), event_id=event_id) == Outcome.DUPLICATE
    with catalog.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Subject)) == 1


def test_a_deletion_arriving_before_the_registration_wins(bus, catalog):
    bus.deliver("identity.user.deleted", {"user_id": "u-1", "username": "alice"})
    bus.deliver("identity.user.registered", registered())
    assert subject(catalog, "alice") == ("user", "u-1", True)


def test_a_deleted_name_registered_again_belongs_to_the_new_account(bus, catalog):
    bus.deliver("identity.user.registered", registered("u-1"))
    bus.deliver("identity.user.deleted", {"user_id": "u-1", "username": "alice"})
    bus.deliver("identity.user.registered", registered("u-2"))
    assert subject(catalog, "alice") == ("user", "u-2", False)
    bus.deliver("identity.user.deleted", {"user_id": "u-1", "username": "alice"})  # the old one again
    assert subject(catalog, "alice") == ("user", "u-2", False)


def test_a_malformed_event_fails_and_changes_nothing(bus, catalog):
    with pytest.raises(marshmallow.ValidationError):
        bus.deliver("identity.user.registered", {"username": "alice"})
    assert subject(catalog, "alice") is None


def test_a_real_worker_records_subjects_from_the_bus(catalog_db, make_settings, fresh_amqp_url):
    catalog = bootstrap(make_settings(catalog_db, amqp_url=fresh_amqp_url))
    runner = catalog.platform.consumer(catalog.consumer_queues)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        wait_for(runner.connected.is_set, timeout=10, message="worker connected")
        event = CloudEvent(type="identity.user.registered", source="/identity", data=registered("u-9", "zoe"))
        connection = pika.BlockingConnection(pika.URLParameters(fresh_amqp_url))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            amqp.declare_events_exchange(channel, "identity")
            channel.basic_publish("identity.events", event.type, event.to_json().encode(),
                                  pika.BasicProperties(message_id=event.id, type=event.type,
                                                       content_type=CONTENT_TYPE, delivery_mode=2),
                                  mandatory=True)
        finally:
            connection.close()
        wait_for(lambda: subject(catalog, "zoe") == ("user", "u-9", False), timeout=10, message="subject recorded")
    finally:
        runner.stop()
        thread.join(15)
        catalog.platform.engine.dispose()


def test_settings_require_a_fernet_mail_token_key(monkeypatch):
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAIL_TOKEN_KEY")
    with pytest.raises(ConfigError, match="MAIL_TOKEN_KEY"):
        load()
    monkeypatch.setenv("MAIL_TOKEN_KEY", "not-a-fernet-key")
    with pytest.raises(ConfigError, match="MAIL_TOKEN_KEY must be a Fernet key"):
        load()


def test_settings_refuse_an_allowed_webhook_target_that_is_no_host_address_or_network(monkeypatch):
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WEBHOOK_ALLOWED_TARGETS", "10.0.0.0/8, hooks.corp, .corp.example, 127.0.0.1, fd00::1")
    assert load().webhook_allowed_targets == ("10.0.0.0/8", "hooks.corp", ".corp.example", "127.0.0.1", "fd00::1")
    for bad in ("10.0.0.0/33", "http://x/", "a b"):
        monkeypatch.setenv("WEBHOOK_ALLOWED_TARGETS", bad)
        with pytest.raises(ConfigError, match="WEBHOOK_ALLOWED_TARGETS"):
            load()
