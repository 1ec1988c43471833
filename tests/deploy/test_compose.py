"""docker-compose.yml runs the Procfile's processes, each with the settings its service needs."""

from __future__ import annotations

import base64
import dataclasses
import importlib
import os
import re
import shutil
import subprocess
import uuid
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from packyard.config import required_variables, variables

ROLES = ("migrate", "api", "worker", "relay")
APPS = ("api", "worker", "relay")


def _service_command(compose, dockerfile, root, name: str) -> list[str]:
    """The command a compose service runs: its own, or its image's default."""
    spec = compose["services"][name]
    if spec.get("command"):
        return spec["command"]
    return dockerfile(root / spec["build"]["dockerfile"]).cmd()


def test_every_procfile_process_is_a_compose_service_of_the_same_name(procfile, compose):
    missing = sorted(set(procfile) - set(compose["services"]))
    assert not missing, f"Procfile processes without a compose service: {missing}"


def test_service_processes_run_the_procfile_command(procfile, compose, dockerfile, root, command_words, services):
    for service in services:
        for role in APPS:
            name = f"{service}-{role}"
            ours = command_words(_service_command(compose, dockerfile, root, name))
            theirs = command_words(procfile[name])
            assert ours[0] == theirs[0], f"{name}: runs {ours[0]}, the Procfile {theirs[0]}"
            if theirs[0] == "gunicorn":
                assert ours[-1] == theirs[-1], f"{name}: serves {ours[-1]}, the Procfile {theirs[-1]}"
            else:
                assert ours == theirs, f"{name}: {ours} is not the Procfile's {theirs}"


def test_the_gateway_is_nginx_built_with_the_route_template(procfile, compose, dockerfile, root, command_words):
    assert command_words(procfile["gateway"])[0] == "nginx"
    gateway = compose["services"]["gateway"]
    assert gateway["build"]["dockerfile"] == "deploy/gateway/Dockerfile"
    assert not gateway.get("command"), "the nginx image's own command renders the template and starts nginx"
    assert dockerfile(root / "deploy/gateway/Dockerfile").base().startswith("nginxinc/nginx-unprivileged")


def test_the_smtp_sink_is_where_the_notifier_sends_mail(procfile, compose, compose_env, services):
    assert "smtp" in procfile and "smtp" in compose["services"]
    if "notifier" not in services:
        pytest.skip("no notifier service yet")
    assert compose["services"]["smtp"]["image"].startswith("axllent/mailpit:")
    for role in ROLES:
        env = compose_env(f"notifier-{role}")
        assert env["SMTP_HOST"] == "smtp"
        assert env["SMTP_PORT"] == "1025", "Mailpit's SMTP port"


def test_migrations_run_as_a_one_off_service_with_the_migrate_command(service, compose):
    spec = compose["services"][f"{service}-migrate"]
    assert spec["command"] == ["python", "-m", service, "migrate"]
    assert spec["restart"] == "no"
    assert spec["build"]["dockerfile"] == f"services/{service}/Dockerfile"


def test_one_image_per_service_runs_all_its_processes(service, compose):
    specs = [compose["services"][f"{service}-{role}"] for role in ROLES]
    assert len({s["image"] for s in specs}) == 1
    assert all(s["build"]["dockerfile"] == f"services/{service}/Dockerfile" for s in specs)


def test_each_process_gets_every_required_setting_of_its_service(service, compose_env, settings_of):
    required = required_variables(settings_of(service))
    for role in ROLES:
        env = compose_env(f"{service}-{role}")
        missing = sorted(name for name in required if not env.get(name))
        assert not missing, f"{service}-{role} lacks {missing}"


def test_each_process_sets_only_variables_its_service_reads(service, compose_env, settings_of):
    known = set(variables(settings_of(service))) | {"PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY", "WEB_THREADS"}
    for role in ROLES:
        unknown = sorted(set(compose_env(f"{service}-{role}")) - known)
        assert not unknown, f"{service}-{role} sets {unknown}, which {service}'s Settings do not read (a typo?)"


def test_local_run_paths_are_replaced_by_container_paths(service, compose_env, local_path_settings):
    for role in ROLES:
        env = compose_env(f"{service}-{role}")
        for name in local_path_settings(service):
            assert env.get(name, "").startswith("/"), \
                f"{service}-{role}: {name} defaults to a path in the code directory"


def test_the_service_accepts_its_compose_settings(service, compose_env, monkeypatch):
    """The service's own loader (with its checks: key formats, lengths, URLs) takes the dev values."""
    config = importlib.import_module(f"{service}.config")
    for role in ROLES:
        for name in list(os.environ):
            monkeypatch.delenv(name)
        for name, value in compose_env(f"{service}-{role}").items():
            monkeypatch.setenv(name, value)
        config.load()


def test_secrets_in_compose_are_marked_as_development_values(service, compose_env, settings_of):
    secrets = {f.metadata["packyard_env"].name for f in dataclasses.fields(settings_of(service))
               if "packyard_env" in f.metadata and f.metadata["packyard_env"].secret}
    secrets |= {"DATABASE_URL", "AMQP_URL"}
    for role in ROLES:
        env = compose_env(f"{service}-{role}")
        for name in secrets & set(env):
            value = env[name]
            try:
                decoded = base64.urlsafe_b64decode(value.encode()).decode("ascii", "replace")
            except ValueError:
                decoded = ""
            assert "dev-only" in value or "dev-only" in decoded, f"{service}-{role}: {name} is not marked dev-only"


def test_apps_wait_for_their_migration_and_migrations_for_healthy_servers(service, compose):
    for role in APPS:
        depends = compose["services"][f"{service}-{role}"]["depends_on"]
        assert depends[f"{service}-migrate"]["condition"] == "service_completed_successfully", f"{service}-{role}"
    depends = compose["services"][f"{service}-migrate"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["rabbitmq"]["condition"] == "service_healthy"
    for server in ("postgres", "rabbitmq"):
        assert compose["services"][server].get("healthcheck"), f"{server} needs a healthcheck to be waited for"


def test_apps_report_health_on_readyz(service, compose, compose_env):
    for role in APPS:
        spec = compose["services"][f"{service}-{role}"]
        port = "8000" if role == "api" else compose_env(f"{service}-{role}")["HEALTH_PORT"]
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(spec["healthcheck"]["test"]), f"{service}-{role}"


def test_the_gateway_waits_for_every_api_and_publishes_8080(compose, services):
    gateway = compose["services"]["gateway"]
    for service in services:
        assert gateway["depends_on"][f"{service}-api"]["condition"] == "service_healthy"
    assert any(str(p).endswith(":8080") and str(p).startswith("127.0.0.1:8080") for p in gateway["ports"])


def test_the_gateway_is_given_every_variable_of_its_template(compose_env, gateway_template_variables, compose):
    env = compose_env("gateway")
    missing = sorted(gateway_template_variables - set(env))
    assert not missing, f"the gateway template needs {missing}"
    for name, value in env.items():
        if name.endswith("_UPSTREAM"):
            host, _, port = value.partition(":")
            assert host in compose["services"] and port == "8000", f"{name}={value} is not an API of this compose"


def _mounts(spec) -> dict[str, tuple[str, bool]]:
    """source → (target, read_only) of a compose service's short-syntax volumes."""
    out = {}
    for volume in spec.get("volumes", []):
        source, target, *mode = volume.split(":")
        out[source] = (target, "ro" in mode)
    return out


def test_the_blob_volume_is_shared_by_catalog_api_and_the_gateway(compose, compose_env, services):
    if "catalog" not in services:
        pytest.skip("no catalog service yet")
    assert "blobs" in compose["volumes"]
    catalog_target, catalog_ro = _mounts(compose["services"]["catalog-api"])["blobs"]
    gateway_target, gateway_ro = _mounts(compose["services"]["gateway"])["blobs"]
    assert not catalog_ro and gateway_ro
    assert catalog_target == compose_env("catalog-api")["BLOB_STORAGE_PATH"]
    assert gateway_target == compose_env("gateway")["BLOB_STORAGE_PATH"]
    assert catalog_target == gateway_target, "X-Accel-Redirect paths are the same on both sides"


def test_blob_collection_runs_on_demand_with_the_catalog_volume(compose, compose_env, services):
    if "catalog" not in services:
        pytest.skip("no catalog service yet")
    spec = compose["services"]["catalog-gc-blobs"]
    assert spec["command"] == ["python", "-m", "catalog", "gc-blobs"]
    assert spec["profiles"] == ["maintenance"], "not started by a plain `docker compose up`"
    target, read_only = _mounts(spec)["blobs"]
    assert target == compose_env("catalog-gc-blobs")["BLOB_STORAGE_PATH"] and not read_only
    assert compose_env("catalog-gc-blobs") == compose_env("catalog-migrate")


def test_each_service_has_its_own_database_and_role(service, compose, compose_env):
    url = urlsplit(compose_env(f"{service}-api")["DATABASE_URL"])
    assert url.hostname == "postgres"
    assert url.username == service and url.path == f"/{service}"
    postgres = compose["services"]["postgres"]["environment"]
    assert service in postgres["PACKYARD_SERVICES"].split()
    assert url.password == postgres["PACKYARD_DB_PASSWORD"]
    assert "./deploy/compose/postgres:/docker-entrypoint-initdb.d:ro" in compose["services"]["postgres"]["volumes"]


def test_application_containers_are_locked_down(service, compose):
    for role in ROLES:
        spec = compose["services"][f"{service}-{role}"]
        assert spec["read_only"] is True
        assert "/tmp" in spec["tmpfs"]
        assert spec["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in spec["security_opt"]


# -- the PostgreSQL init script, run for real ----------------------------------------------------

@pytest.fixture
def init_script_server():
    """The test PostgreSQL server, as psql's environment, or a skip when psql is missing."""
    if not shutil.which("psql"):
        pytest.skip("psql is not installed: the compose init script runs psql")
    url = os.environ.get("PACKYARD_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PACKYARD_TEST_POSTGRES_URL is not set")
    parts = sa.engine.make_url(url)
    env = {**os.environ, "PGHOST": parts.host or "127.0.0.1", "PGPORT": str(parts.port or 5432)}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return parts, env


def test_the_init_script_gives_each_service_a_database_only_its_role_can_open(init_script_server, root):
    parts, env = init_script_server
    names = [f"pk_init_{uuid.uuid4().hex[:8]}_{i}" for i in (1, 2)]
    admin = sa.create_engine(parts.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        result = subprocess.run(
            ["sh", str(root / "deploy/compose/postgres/10-service-databases.sh")],
            env={**env, "POSTGRES_USER": parts.username or "postgres",
                 "PACKYARD_SERVICES": " ".join(names), "PACKYARD_DB_PASSWORD": "dev-only-test"},
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr

        def connect(role: str, database: str):
            url = parts.set(drivername="postgresql+psycopg", username=role, password="dev-only-test",
                            database=database)
            return sa.create_engine(url, poolclass=sa.pool.NullPool).connect()

        with connect(names[0], names[0]) as own:
            own.execute(sa.text("CREATE TABLE things (id int)"))  # the role owns its database
            own.commit()
        with pytest.raises(sa.exc.OperationalError, match="permission denied"):
            connect(names[0], names[1])
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(sa.text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


def test_the_init_script_refuses_to_run_without_its_settings(root):
    result = subprocess.run(["sh", str(root / "deploy/compose/postgres/10-service-databases.sh")],
                            env={"PATH": os.environ["PATH"]}, capture_output=True, text=True)
    assert result.returncode != 0
    assert re.search(r"PACKYARD_SERVICES", result.stderr)


def test_the_download_log_is_shared_by_the_gateway_and_catalogs_worker(compose, compose_env, services):
    if "catalog" not in services:
        pytest.skip("no catalog service yet")
    assert "download-logs" in compose["volumes"]
    writer_target, writer_ro = _mounts(compose["services"]["gateway"])["download-logs"]
    reader_target, reader_ro = _mounts(compose["services"]["catalog-worker"])["download-logs"]
    assert not writer_ro and not reader_ro, "the worker removes files it has counted"
    assert writer_target == compose_env("gateway")["DOWNLOAD_LOG_DIR"]
    assert reader_target == compose_env("catalog-worker")["DOWNLOAD_LOG_DIR"] == writer_target
